"""Binding a messenger account to a person of the roster (`/start CODE`, 邀请码).

The office imports the roster and gives each person a one-time code
(`daiban people invite NAME`); the person sends `/start CODE` to the bot from Telegram or
WeCom. A person may bind several accounts; a used, expired or replaced code is refused
clearly: a new code for a person revokes their older unused ones (撤销).
A contact code (issued with `/contacts`) makes whoever sends it a contact of an enterprise.
Wrong codes (these and the groups' `/bind CODE`) are limited per messenger account.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

from handlers.context import Ctx
from handlers.render import role_words
from handlers.role_placement import mid_sentence
from storage.models import Account, Invite, Person
from storage.repos.invites import REVOKED
from storage.uow import UnitOfWork

GROUP_CODE_VALID = timedelta(days=7)  # a one-time group code (/bind, /group) lasts a week
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed
CODE_LENGTH = 8
# 32^8 codes, but 300 guesses in 9 seconds adds up; an account gets 5 wrong codes per 10
# minutes (counted in the store, so restarts and replicas share the count).
GUESS_LIMIT = 5
GUESS_WINDOW = timedelta(minutes=10)


# -- codes -----------------------------------------------------------------------------
async def new_code(uow: UnitOfWork) -> str:
    """A fresh one-time code (邀请码) never issued before."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not await uow.invites.exists(code):
            return code


def invite_refusal(ctx: Ctx, invite: Invite | None, kind: str) -> str | None:
    """Why a code cannot be used (unknown, of another kind, used, expired), or None."""
    if invite is None or invite.kind != kind:
        return ctx._("That code is not valid. Check it, or ask for a new one.")
    if invite.used_at is not None:
        return ctx._("That code was already used. Ask for a new one.")
    if invite.used_by == REVOKED:
        return ctx._("That code was replaced by a newer one. Use the newest code you were given.")
    if invite.expires_at is not None and invite.expires_at <= ctx.now:
        return ctx._("That code has expired. Ask for a new one.")
    return None


async def guessing_blocked(ctx: Ctx) -> bool:
    """True, and the person told how long to wait, once this account has typed
    GUESS_LIMIT wrong codes within GUESS_WINDOW; the code is then not even looked up."""
    event = ctx.incoming
    recent = await ctx.uow.invites.wrong_attempts(
        event.platform, event.sender.external_id, since=ctx.now - GUESS_WINDOW
    )
    if len(recent) < GUESS_LIMIT:
        return False
    free_at = recent[-GUESS_LIMIT] + GUESS_WINDOW
    minutes = max(1, math.ceil((free_at - ctx.now).total_seconds() / 60))
    await ctx.reply(
        ctx.n_(
            "Too many wrong codes from this account. Please wait {n} minute and try again; if "
            "your code still does not work, ask for a new one.",
            "Too many wrong codes from this account. Please wait {n} minutes and try again; if "
            "your code still does not work, ask for a new one.",
            minutes,
        )
    )
    return True


async def refuse_code(ctx: Ctx, refusal: str) -> None:
    """Say why the code cannot be used, and count it against the account's guesses."""
    event = ctx.incoming
    await ctx.uow.invites.record_wrong(
        event.platform,
        event.sender.external_id,
        now=ctx.now,
        forget_before=ctx.now - GUESS_WINDOW,
    )
    await ctx.reply(refusal)


async def issue_person_code(
    uow: UnitOfWork,
    person: Person,
    *,
    now: datetime,
    valid_days: int = 14,
    created_by_id: int | None = None,
) -> str:
    """A new one-time code that binds an account to `person`; their older unused codes
    stop working."""
    await uow.invites.revoke_person_codes(person.id, now=now)
    return await _issue(
        uow, "person", now, now + timedelta(days=valid_days), created_by_id, person_id=person.id
    )


async def _issue(
    uow: UnitOfWork,
    kind: str,
    now: datetime,
    expires_at: datetime,
    created_by_id: int | None,
    **target: int,
) -> str:
    """Store a fresh one-time code of `kind` for its target (person, project, enterprise)."""
    code = await new_code(uow)
    await uow.invites.add(
        code=code, kind=kind, now=now, created_by_id=created_by_id, expires_at=expires_at, **target
    )
    return code


async def start_with_code(ctx: Ctx) -> bool:
    """Handle `/start CODE`; False when the argument is not an invite code (the welcome
    then runs as usual, e.g. a Telegram deep-link parameter)."""
    code = ctx.incoming.args.strip()
    if len(code) == CODE_LENGTH and await guessing_blocked(ctx):
        return True
    invite = await ctx.uow.invites.by_code(code, for_update=True)
    kind = invite.kind if invite is not None and invite.kind == "contact" else "person"
    if (invite is None or invite.kind != kind) and len(code) != CODE_LENGTH:
        return False
    refusal = invite_refusal(ctx, invite, kind)
    if refusal:
        await refuse_code(ctx, refusal)
        return True
    if kind == "contact":
        assert invite is not None
        await _become_contact(ctx, invite)
        return True
    assert invite is not None and invite.person_id is not None
    person = await ctx.uow.people.get(invite.person_id)
    if person is None:
        await refuse_code(ctx, ctx._("That code is not valid. Check it, or ask for a new one."))
        return True
    account = await _account(ctx)
    stranger = ctx.person
    if account is not None and account.person_id != person.id:
        # The account was auto-registered on first contact; it now belongs to the roster
        # person. The placeholder person keeps its history but loses the account.
        account.person_id = person.id
        await ctx.uow.flush()
    await ctx.uow.invites.use(
        invite, now=ctx.now, used_by=f"{ctx.incoming.platform}:{ctx.incoming.sender.external_id}"
    )
    # Writing to us with a code shows the account works again, whatever was refused before.
    await ctx.uow.people.clear_unreachable(ctx.incoming.platform, ctx.incoming.sender.external_id)
    await ctx.uow.events.append(
        "person.account_bound",
        at=ctx.now,
        actor_id=person.id,
        data={
            "platform": ctx.incoming.platform,
            "external_id": ctx.incoming.sender.external_id,
            "previous_person_id": stranger.id if stranger.id != person.id else None,
        },
    )
    roles = sorted({r.role for r in await ctx.uow.people.roles_of(person.id)})
    ctx.person = person
    words = role_words(ctx, ctx.scheme)  # in the person's language, now that they are known
    await ctx.reply(
        ctx._(
            "Welcome, {name}. This account is now linked to you ({roles}). Send /help to see "
            "what you can do.",
            name=person.name,
            roles="、".join(mid_sentence(words.get(r, r)) for r in roles) or "—",
        )
    )
    return True


async def _become_contact(ctx: Ctx, invite: Invite) -> None:
    """`/start CODE` with a contact code the office issued: the sender acts for the
    enterprise from now on (their open claim on it, if any, is approved)."""
    enterprise = (
        await ctx.uow.enterprises.get(invite.enterprise_id) if invite.enterprise_id else None
    )
    if enterprise is None:
        await refuse_code(ctx, ctx._("That code is not valid. Check it, or ask for a new one."))
        return
    person = ctx.person
    for claim in await ctx.uow.enterprises.pending_claims(enterprise.id):
        if claim.person_id == person.id:
            await ctx.uow.enterprises.decide(
                claim, approved=True, by_id=invite.created_by_id, now=ctx.now
            )
    await ctx.uow.people.set_enterprise(person.id, enterprise.id)
    await ctx.uow.invites.use(
        invite, now=ctx.now, used_by=f"{ctx.incoming.platform}:{ctx.incoming.sender.external_id}"
    )
    await ctx.uow.events.append(
        "enterprise.contact_invited",
        at=ctx.now,
        actor_id=person.id,
        data={"enterprise_id": enterprise.id, "invite_by": invite.created_by_id},
    )
    await ctx.reply(
        ctx._(
            "You are now a contact of {enterprise}: /progress shows its projects and applications.",
            enterprise=enterprise.name,
        )
    )


async def issue_group_code(
    uow: UnitOfWork, project_id: int, *, now: datetime, created_by_id: int
) -> str:
    """A new one-time code that binds a group chat to the project (/bind, /group)."""
    expires = now + GROUP_CODE_VALID
    return await _issue(uow, "group", now, expires, created_by_id, project_id=project_id)


async def issue_contact_code(
    uow: UnitOfWork, enterprise_id: int, *, now: datetime, created_by_id: int, valid_days: int = 14
) -> str:
    """A new one-time code that makes whoever sends it a contact of the enterprise."""
    expires = now + timedelta(days=valid_days)
    return await _issue(uow, "contact", now, expires, created_by_id, enterprise_id=enterprise_id)


async def _account(ctx: Ctx) -> Account | None:
    """The sender's account row (registered on first contact)."""
    wanted = (ctx.incoming.platform, ctx.incoming.sender.external_id)
    for account in await ctx.uow.people.accounts_of(ctx.person.id):
        if (account.platform, account.external_id) == wanted:
            return account
    return None
