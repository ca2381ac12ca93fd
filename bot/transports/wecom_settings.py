"""The WeCom settings, checked at start-up (企业微信配置校验): one sentence per mistake."""

from __future__ import annotations

from bot.config import ConfigError, Settings
from bot.transports.wecom_crypto import WXBizMsgCrypt
from bot.transports.wecom_transport import parse_robot_keys


def check_settings(settings: Settings) -> tuple[int, str, str, str, dict[str, str]]:
    """The WeCom settings, validated: (agent id, secret, token, AES key, robot keys).

    Raises `ConfigError` naming the variable that is missing or wrong.
    """
    missing = [
        name
        for name, value in (
            ("DAIBAN_WECOM_AGENT_ID", settings.wecom_agent_id),
            ("DAIBAN_WECOM_SECRET", settings.wecom_secret),
            ("DAIBAN_WECOM_TOKEN", settings.wecom_token),
            ("DAIBAN_WECOM_AES_KEY", settings.wecom_aes_key),
        )
        if not value or (hasattr(value, "get_secret_value") and not value.get_secret_value())
    ]
    if missing:
        raise ConfigError(f"{missing[0]} must be set when DAIBAN_WECOM_CORP_ID is set.")
    assert settings.wecom_secret and settings.wecom_token and settings.wecom_aes_key
    try:
        agent_id = int(str(settings.wecom_agent_id))
    except ValueError:
        raise ConfigError("DAIBAN_WECOM_AGENT_ID must be the app's number (AgentId).") from None
    aes_key = settings.wecom_aes_key.get_secret_value()
    try:
        WXBizMsgCrypt("t", aes_key, "c")
    except ValueError:
        raise ConfigError(
            "DAIBAN_WECOM_AES_KEY must be the 43-character EncodingAESKey of the app."
        ) from None
    try:
        robots = parse_robot_keys(
            settings.wecom_robot_keys.get_secret_value() if settings.wecom_robot_keys else None
        )
    except ValueError as exc:
        raise ConfigError(f"DAIBAN_WECOM_ROBOT_KEYS: {exc}.") from None
    return (
        agent_id,
        settings.wecom_secret.get_secret_value(),
        settings.wecom_token.get_secret_value(),
        aes_key,
        robots,
    )


__all__ = ["check_settings"]
