"""Messages waiting for people the bot cannot reach now (待达消息), for the office.

Some messengers only let the bot write to a person for a while after that person wrote
(WeChat: 48 hours). What could not go waits and is delivered when they write again; the
office sees here who has messages waiting, so it can call them instead.
"""

from __future__ import annotations

from handlers.chat import ChatKind
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.router import Router
from storage.models import Person

router = Router("waiting")

PLATFORM_LABELS = {"wechat": N_("WeChat"), "wecom": N_("WeCom"), "telegram": N_("Telegram")}
SHOWN = 30


# Names of enterprise contacts are not a project group's business: a direct chat only.
@router.command(
    "waiting",
    roles={"office"},
    chat=ChatKind.DM,
    help=N_("People with messages waiting until they write again"),
)
async def waiting(ctx: Ctx) -> None:
    """`/waiting`: every person with messages waiting, the longest-waiting first."""
    chats = await ctx.uow.held.waiting()
    if not chats:
        await ctx.reply(ctx._("No messages are waiting: everyone can be reached."))
        return
    lines = [
        ctx._(
            "Messages waiting until the person writes to the bot again ({count} people):",
            count=len(chats),
        )
    ]
    for chat in chats[:SHOWN]:
        person = None
        if chat.person_id is not None:
            person = await ctx.uow.people.get(chat.person_id)
        if person is None:
            person = await ctx.uow.people.by_account(chat.platform, chat.chat_external_id)
        label = PLATFORM_LABELS.get(chat.platform)
        lines.append(
            ctx._(
                "· {name} ({platform}): {count} waiting since {since}",
                name=await _name(ctx, person, chat.chat_external_id),
                platform=ctx._(label) if label else chat.platform,
                count=chat.count,
                since=chat.since.astimezone(ctx.services.timezone).strftime("%Y-%m-%d %H:%M"),
            )
        )
    if len(chats) > SHOWN:
        lines.append(ctx._("… and {more} more.", more=len(chats) - SHOWN))
    lines.append(ctx._("Call them, or ask them to send any message to receive what waits."))
    await ctx.reply("\n".join(lines))


async def _name(ctx: Ctx, person: Person | None, account_id: str) -> str:
    """The person's name; for an account that came without one (WeChat sends no names),
    the contact name and mobile of their latest application, never the account id."""
    if person is None:
        return ctx._("an unregistered contact")
    if person.name != account_id:
        return person.name
    for app in await ctx.uow.applications.of_contact(person.id):
        data = app.data or {}
        if data.get("contact_name"):
            return f"{data['contact_name']} {data.get('mobile') or ''}".strip()
    return ctx._("an unregistered contact")
