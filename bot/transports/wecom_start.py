"""Starting WeCom (企业微信接入): the app's callback, its group robots, the directory job.

Kept apart from `wecom.py` (the callback itself) because the robots' callbacks build on
that module: the start-up wires both, and neither imports the other's wiring.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import ConfigError, Settings
from bot.transports.host import TransportHost
from bot.transports.wecom import CALLBACK_PATH, WeComCallback, group_binder, lang_reader
from bot.transports.wecom_client import PLATFORM, WeComApi
from bot.transports.wecom_crypto import WXBizMsgCrypt
from bot.transports.wecom_media import MediaInbox, media_folder
from bot.transports.wecom_redis import RedisState
from bot.transports.wecom_robots import add_robot_callbacks
from bot.transports.wecom_settings import check_settings
from bot.transports.wecom_state import SendState, StoreState
from bot.transports.wecom_sync import add_directory_job
from bot.transports.wecom_transport import WeComTransport

log = logging.getLogger(__name__)


async def start_wecom(
    app: TransportHost, settings: Settings, web_app: web.Application
) -> Callable[[], Awaitable[None]]:
    """Register the WeCom transport and the callback routes; returns the stop function."""
    if not settings.wecom_corp_id:
        raise ConfigError("DAIBAN_WECOM_CORP_ID must be set to use WeCom.")
    agent_id, secret, token, aes_key, robots = check_settings(settings)
    # Limits, token and progress live in the shared store: replicas stay inside WeCom's limits.
    store = StoreState(app.services.db)
    state: SendState = store
    if settings.redis_url is not None:
        app_key = f"{settings.wecom_corp_id}:{agent_id}"
        state = RedisState.from_url(settings.redis_url.get_secret_value(), store, app_key)
    api = WeComApi(settings.wecom_api_url, settings.wecom_corp_id, secret, agent_id, tokens=state)
    app.transports[PLATFORM] = WeComTransport(
        api,
        robot_keys=robots,
        lang_of=lang_reader(app),
        default_lang=settings.default_lang,
        member_per_minute=settings.wecom_member_per_minute,
        member_per_hour=settings.wecom_member_per_hour,
        robot_per_minute=settings.wecom_robot_per_minute,
        state=state,
        bind_group=group_binder(app),
    )
    app.services.group_platforms.add(PLATFORM)  # /group may ask this transport for groups
    # What people send is kept in the media folder: the archive (一事一档) reads it there.
    app.services.document_folders[f"{media_folder(settings)}/"] = media_folder(settings)
    add_directory_job(app, settings, api)
    callback = WeComCallback(
        app,
        WXBizMsgCrypt(token, aes_key, settings.wecom_corp_id),
        MediaInbox(api, media_folder(settings)),
    )
    web_app.router.add_get(CALLBACK_PATH, callback.verify_url)
    web_app.router.add_post(CALLBACK_PATH, callback.receive)
    callbacks = [callback, *add_robot_callbacks(app, settings, robots, web_app)]
    log.info("WeCom: callback at %s, %d robot group(s)", CALLBACK_PATH, len(robots))

    async def stop() -> None:
        for each in callbacks:
            await each.drain()
        await api.close()
        if isinstance(state, RedisState):
            await state.close()

    return stop


__all__ = ["start_wecom"]
