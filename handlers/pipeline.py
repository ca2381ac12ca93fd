"""Handling one inbound event (事件处理): dedupe, identify, route — in one transaction.

Everything a handler changes (state, work-log events, outbox rows) commits together or
not at all. If a handler fails, its transaction is rolled back, so the conversation keeps
exactly what was typed before, and the person gets a short apology in a fresh transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from handlers import log_context
from handlers.chat import ChatKind, Incoming
from handlers.context import Ctx, Services
from handlers.forms import handle_form_event
from handlers.i18n import gettext, normalize_lang
from handlers.inbound_text import message_too_long, normalize_incoming
from handlers.postman import Postman
from storage.db import StorageError
from storage.models import Person
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


async def _identify(uow: UnitOfWork, event: Incoming, ctx_now: datetime) -> Person:
    """The person behind the sender's account; a first-time sender becomes a new person."""
    # `uow.arrivals.find` found no account in this very transaction (which sees what an
    # earlier event of the same batch registered): no second look is needed.
    person = await uow.people.add(
        event.sender.display_name or event.sender.external_id,
        lang=normalize_lang(event.sender.language_code),
        now=ctx_now,
    )
    await uow.people.add_account(
        person.id, event.platform, event.sender.external_id, event.sender.display_name, now=ctx_now
    )
    await uow.events.append(
        "person.first_contact", at=ctx_now, actor_id=person.id, data={"platform": event.platform}
    )
    return person


async def _process(
    event: Incoming, services: Services, uow: UnitOfWork, *, recorded: bool = False
) -> bool:
    """Record (unless `recorded` already), identify and route one event inside `uow`;
    False for a redelivery."""
    now = services.clock.now()
    if not recorded and not await uow.inbound.record(event.platform, event.event_id, now):
        return False
    event = normalize_incoming(event)  # the one normalisation of what people type
    # Sender, roles, chat and form state in one query; the rest only when new.
    sender = event.sender.external_id
    arrival = await uow.arrivals.find(event.platform, sender, event.chat_id)
    if (
        arrival is None
        or arrival.chat is None
        or (event.chat_title and arrival.chat.title != event.chat_title)
    ):  # a new chat, or a renamed group that keeps its name up to date: one statement
        await uow.chats.register(
            event.platform, event.chat_id, event.chat_kind.value, event.chat_title, now=now
        )
    if arrival is None:
        person, roles, conversation = await _identify(uow, event, now), frozenset(), None
    else:
        person, roles, conversation = arrival.person, arrival.roles, arrival.conversation
    await dispatch(Ctx(event, uow, services, person, roles, conversation, now))
    return True


async def handle(event: Incoming, services: Services) -> bool:
    """Process one event exactly once; False when it was a redelivery and was ignored.

    Raises `StorageError` when the database cannot be reached: the event was not recorded
    and the platform must deliver it again.
    """
    try:
        async with UnitOfWork(services.db) as uow:
            return await _process(event, services, uow)
    except StorageError:
        # The store is unreachable, before or in the middle of the transaction (the unit
        # of work says which failures mean that): nothing was recorded, so the event must
        # not be acknowledged; the transport answers 5xx (webhook) or retries (polling).
        raise
    except Exception:
        log.exception("handler failed for %s event %s", event.platform, event.event_id)
        await _apologize(event, services)
        return True


async def handle_together(events: Sequence[Incoming], services: Services) -> list[bool]:
    """Process several events (a polling batch) in order, in ONE transaction.

    Each event's changes are still all-or-nothing: the batch commits as a whole. A handler
    that fails makes this raise after the rollback, with nothing of the batch kept; the
    caller then handles the events one by one with `handle`, so the failing event gets its
    apology and the others their answers. Raises `StorageError` when the store is down.
    """
    results: list[bool] = []
    async with UnitOfWork(services.db) as uow:
        keys = [(event.platform, str(event.event_id)) for event in events]
        new = await uow.inbound.record_many(keys, services.clock.now())
        for event, key in zip(events, keys, strict=True):
            if key not in new:  # seen before, or a second copy within this batch
                results.append(False)
                continue
            new.discard(key)
            with log_context.scope(chat=f"{event.platform}:{event.chat_id}", event=event.event_id):
                results.append(await _process(event, services, uow, recorded=True))
    return results


async def dispatch(ctx: Ctx) -> None:
    """Route the event: the unfinished form first, then commands and buttons, then text.

    The router checks each route's chat, roles and scope and refuses itself."""
    event = ctx.incoming
    if await message_too_long(ctx):
        return
    if await handle_form_event(ctx):
        return
    if await ctx.services.router.dispatch(ctx):
        return
    if event.command is not None:
        await ctx.reply(
            ctx._(
                "Unknown command /{command}. Send /help to see what you can do.",
                command=event.command,
            )
        )
    elif ctx.in_group:
        return  # groups talk among themselves; the bot answers commands and buttons only
    else:
        await ctx.reply(
            ctx._("Sorry, I did not understand that. Send /help to see what you can do.")
        )


async def _apologize(event: Incoming, services: Services) -> None:
    now = services.clock.now()
    try:
        async with UnitOfWork(services.db) as uow:
            await uow.inbound.record(event.platform, event.event_id, now)
            person = await uow.people.by_account(event.platform, event.sender.external_id)
            lang = person.lang if person else normalize_lang(event.sender.language_code)
            text = gettext(
                lang,
                "Sorry, something went wrong on our side. What you entered before is kept; please "
                "try again.",
            )
            post = Postman.for_event(uow, now, event.platform, event.event_id)
            await post.to_chat(event.platform, event.chat_id, text, "error")
    except StorageError:
        raise  # not even the apology could be stored: the event stays unacknowledged
    except Exception:
        log.exception("could not record the failure of %s event %s", event.platform, event.event_id)


__all__ = ["ChatKind", "dispatch", "handle", "handle_together"]
