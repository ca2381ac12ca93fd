"""Enterprise contacts (企业联络人): who may act for an enterprise, and claims to do so.

A credit code (统一社会信用代码) is printed on every licence, so typing it proves nothing.
The enterprise's first contact is seated when the office accepts their application; anyone
else who gives the same code files a *claim* (认领) that an existing contact or the office
approves or refuses with a button. Until then the claimant sees only what they applied for
themselves. The office lists and removes contacts with `/contacts CODE`.
"""

from __future__ import annotations

from domain.bounds import row_id
from domain.identifiers import validate_uscc
from handlers.access import ClaimDecider
from handlers.chat import Button, ChatKind, Outgoing
from handlers.context import Ctx
from handlers.enterprise_claims import refused_text
from handlers.i18n import N_
from handlers.invites import issue_contact_code
from handlers.render import Voice
from handlers.router import Router
from handlers.validation import message_for

router = Router("contacts")


# -- deciding a claim -------------------------------------------------------------------
@router.button("claim:approve:", scope=ClaimDecider())
async def approve(ctx: Ctx) -> None:
    await _decide(ctx, approved=True)


@router.button("claim:refuse:", scope=ClaimDecider())
async def refuse(ctx: Ctx) -> None:
    await _decide(ctx, approved=False)


async def _decide(ctx: Ctx, *, approved: bool) -> None:
    claim = ctx.target
    enterprise = await ctx.uow.enterprises.get(claim.enterprise_id)
    assert enterprise is not None  # the scope admitted it
    claimant = await ctx.uow.people.get(claim.person_id)
    name = claimant.name if claimant else "—"
    if claim.status != "pending":
        already = (
            N_("The request of {name} to act for {enterprise} was already approved.")
            if claim.status == "approved"
            else N_("The request of {name} to act for {enterprise} was already refused.")
        )
        await ctx.reply(ctx._(already, name=name, enterprise=enterprise.name))
        return
    await ctx.uow.enterprises.decide(claim, approved=approved, by_id=ctx.person.id, now=ctx.now)
    await ctx.uow.events.append(
        "enterprise.claim_approved" if approved else "enterprise.claim_refused",
        at=ctx.now,
        actor_id=ctx.person.id,
        data={"enterprise_id": enterprise.id, "claim_id": claim.id, "person_id": claim.person_id},
    )
    if approved:
        done = ctx._(
            "{name} is now a contact of {enterprise}.", name=name, enterprise=enterprise.name
        )
    else:
        done = ctx._(
            "The request of {name} to act for {enterprise} was refused.",
            name=name,
            enterprise=enterprise.name,
        )
    await ctx.reply(done)
    if claimant is None:
        return
    say = Voice(claimant.lang, ctx.scheme)
    if approved:
        news = say._(
            "You are now a contact of {enterprise}: /progress shows its projects and applications.",
            enterprise=enterprise.name,
        )
    else:
        news = refused_text(say, enterprise)
    await ctx.post.to_person(claimant.id, news)


# -- the office's list of contacts ------------------------------------------------------
# Contacts' mobiles are not a group's business: a direct chat only.
@router.command(
    "contacts",
    roles={"office"},
    chat=ChatKind.DM,
    help=N_("An enterprise's contacts: remove one, decide a claim: /contacts CODE"),
)
async def contacts(ctx: Ctx) -> None:
    """`/contacts CODE`: the enterprise's contacts (with Remove) and its open claims."""
    raw = ctx.incoming.args.strip()
    if not raw:
        await ctx.reply(
            ctx._(
                "Send /contacts followed by the enterprise's unified social credit code, e.g. "
                "/contacts 91350100M000100Y43."
            )
        )
        return
    checked = validate_uscc(raw)
    if checked.error or checked.value is None:
        await ctx.reply(message_for(ctx, checked.error or "uscc.format", checked.detail))
        return
    enterprise = await ctx.uow.enterprises.by_uscc(checked.value)
    if enterprise is None:
        await ctx.reply(
            ctx._("No enterprise with credit code {uscc} is known.", uscc=checked.value)
        )
        return
    people = await ctx.uow.enterprises.contacts(enterprise.id)
    claims = await ctx.uow.enterprises.pending_claims(enterprise.id)
    lines = [f"**{enterprise.name}** ({enterprise.uscc})"]
    buttons: list[list[Button]] = []
    if not people:
        lines.append(ctx._("No contacts yet."))
    for person in people:
        lines.append(
            ctx._("Contact: {name} ({mobile})", name=person.name, mobile=person.mobile or "—")
        )
        buttons.append(
            [
                Button(
                    ctx._("Remove {name}", name=person.name),
                    f"contact:remove:{person.id}:{enterprise.id}",
                )
            ]
        )
    for claim in claims:
        claimant = await ctx.uow.people.get(claim.person_id)
        if claimant is None:
            continue
        lines.append(
            ctx._(
                "Waiting for approval: {name} ({mobile})",
                name=claimant.name,
                mobile=claimant.mobile or "—",
            )
        )
        buttons.append(
            [
                Button(ctx._("✔ Approve {name}", name=claimant.name), f"claim:approve:{claim.id}"),
                Button(ctx._("✖ Refuse {name}", name=claimant.name), f"claim:refuse:{claim.id}"),
            ]
        )
    buttons.append(
        [Button(ctx._("Invite code for a new contact"), f"contact:invite:{enterprise.id}")]
    )
    await ctx.reply(Outgoing("\n".join(lines), buttons=buttons))


@router.button("contact:invite:", roles={"office"}, chat=ChatKind.DM)
async def invite_contact(ctx: Ctx) -> None:
    """A one-time code (14 days) that makes whoever sends it a contact of the enterprise."""
    enterprise_id = row_id((ctx.incoming.payload or "").removeprefix("contact:invite:"))
    enterprise = await ctx.uow.enterprises.get(enterprise_id) if enterprise_id else None
    if enterprise is None:
        await ctx.reply(ctx._("This enterprise no longer exists."))
        return
    code = await issue_contact_code(
        ctx.uow, enterprise.id, now=ctx.now, created_by_id=ctx.person.id
    )
    await ctx.reply(
        ctx._(
            "One-time code for a new contact of {enterprise}: {code}\nGive it to that person "
            "only; they send /start {code} to me. It works once, for 14 days.",
            enterprise=enterprise.name,
            code=code,
        )
    )


@router.button("contact:remove:", roles={"office"}, chat=ChatKind.DM)
async def remove(ctx: Ctx) -> None:
    # person:enterprise, so an old button never removes them from an enterprise they joined since.
    raw_person, _, raw_enterprise = (
        (ctx.incoming.payload or "").removeprefix("contact:remove:").partition(":")
    )
    person_id = row_id(raw_person)
    person = await ctx.uow.people.get(person_id) if person_id else None
    enterprise_id = person.enterprise_id if person else None
    enterprise = await ctx.uow.enterprises.get(enterprise_id) if enterprise_id else None
    if person is None or enterprise is None or row_id(raw_enterprise) != enterprise.id:
        await ctx.reply(ctx._("This person is no longer a contact of that enterprise."))
        return
    await ctx.uow.people.set_enterprise(person.id, None)
    dropped = await ctx.uow.members.drop_enterprise_contact(person.id, enterprise.id)
    await ctx.uow.events.append(
        "enterprise.contact_removed",
        at=ctx.now,
        actor_id=ctx.person.id,
        data={"enterprise_id": enterprise.id, "person_id": person.id, "teams": dropped},
    )
    await ctx.reply(
        ctx._(
            "{name} is no longer a contact of {enterprise}.",
            name=person.name,
            enterprise=enterprise.name,
        )
    )
    say = Voice(person.lang, ctx.scheme)
    await ctx.post.to_person(
        person.id,
        say._(
            "The {office} removed you as a contact of {enterprise}; you no longer see its "
            "projects. If this is wrong, please contact the {office}.",
            enterprise=enterprise.name,
        ),
    )


__all__ = ["router"]
