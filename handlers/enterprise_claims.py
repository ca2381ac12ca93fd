"""Claims to act for an enterprise (企业认领): shared by the flows that take a credit code
(/profile, /apply), the office's acceptance and the office's /contacts.

A credit code (统一社会信用代码) is printed on every licence, so typing it proves nothing:
the enterprise's first contact is seated when the office accepts their application, and
anyone else who gives the same code files a claim that a contact or the office decides.
"""

from __future__ import annotations

from handlers.chat import Button, Outgoing
from handlers.context import Ctx
from handlers.render import Voice
from storage.models import Enterprise, EnterpriseClaim, Person


async def claim_enterprise(ctx: Ctx, stated_name: str, uscc: str) -> Enterprise:
    """The enterprise of this credit code (registered under `stated_name` if new). A person
    who is not yet its contact files a claim; when the enterprise already has contacts they
    and the office get a notice to decide it, and the person is told so."""
    person = ctx.person
    enterprise = await ctx.uow.enterprises.get_or_create(name=stated_name, uscc=uscc, now=ctx.now)
    if person.enterprise_id == enterprise.id:
        return enterprise
    claim, new = await ctx.uow.enterprises.claim(enterprise.id, person.id, stated_name, ctx.now)
    contacts = await ctx.uow.enterprises.contacts(enterprise.id)
    if not contacts:  # the office seats the first contact when it accepts an application
        return enterprise
    if claim.status == "refused":
        await ctx.reply(refused_text(ctx, enterprise))
        return enterprise
    if not new:
        await ctx.reply(
            ctx._(
                "Your request to act for {enterprise} is still waiting for its contacts or the "
                "{office} to approve it.",
                enterprise=enterprise.name,
            )
        )
        return enterprise
    await ctx.uow.events.append(
        "enterprise.claim_filed",
        at=ctx.now,
        actor_id=person.id,
        data={"enterprise_id": enterprise.id, "claim_id": claim.id},
    )
    await ask_deciders(ctx, enterprise, claim, person, contacts)
    await ctx.reply(
        ctx._(
            "{enterprise} already has a contact in this service. Your request to act for it was "
            "sent to its contacts and the {office}; until one of them approves it, you "
            "see only what you applied for yourself.",
            enterprise=enterprise.name,
        )
    )
    return enterprise


async def ask_deciders(
    ctx: Ctx,
    enterprise: Enterprise,
    claim: EnterpriseClaim,
    claimant: Person,
    contacts: list[Person],
) -> None:
    """The notice with Approve / Refuse to the enterprise's contacts and the office."""
    deciders = {p.id: p for p in contacts}
    deciders |= {p.id: p for p in await ctx.uow.people.with_role("office")}
    for decider in deciders.values():
        if decider.id != claimant.id:
            await ctx.post.to_person(decider.id, claim_notice(decider, claimant, enterprise, claim))


async def seat_first_contact(ctx: Ctx, enterprise_id: int, person_id: int) -> None:
    """The office accepted this person's application: they become the enterprise's first
    contact if it has none, and claims filed before (silently, there was nobody to ask) now
    go to them and the office to decide."""
    seated = await ctx.uow.enterprises.seat_first_contact(
        enterprise_id, person_id, by_id=ctx.person.id, now=ctx.now
    )
    enterprise = await ctx.uow.enterprises.get(enterprise_id)
    if not seated or enterprise is None:
        return
    contacts = await ctx.uow.enterprises.contacts(enterprise_id)
    for claim in await ctx.uow.enterprises.pending_claims(enterprise_id):
        claimant = await ctx.uow.people.get(claim.person_id)
        if claimant is not None:
            await ask_deciders(ctx, enterprise, claim, claimant, contacts)


def refused_text(say: Ctx | Voice, enterprise: Enterprise) -> str:
    return say._(
        "Your request to act for {enterprise} was refused. If this is wrong, please contact the "
        "{office}.",
        enterprise=enterprise.name,
    )


def claim_notice(
    reader: Person, claimant: Person, enterprise: Enterprise, claim: EnterpriseClaim
) -> Outgoing:
    say = Voice(reader.lang)
    text = say._(
        "{name} (mobile {mobile}) says they act for {enterprise} (credit code {uscc}) and asks "
        "to see its projects and applications. Approve only if you know this person.",
        name=claimant.name,
        mobile=claimant.mobile or "—",
        enterprise=enterprise.name,
        uscc=enterprise.uscc or "—",
    )
    return Outgoing(text, buttons=[decision_buttons(say, claim)])


def decision_buttons(say: Voice, claim: EnterpriseClaim) -> list[Button]:
    return [
        Button(say._("✔ Approve"), f"claim:approve:{claim.id}"),
        Button(say._("✖ Refuse"), f"claim:refuse:{claim.id}"),
    ]
