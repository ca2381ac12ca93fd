"""The demo cast (演示人员): the people the emulator lets you be, created once.

An enterprise contact, a butler, three specialists of different departments of the active
scheme, an office member and a leader, each with an `emulator` account whose external id
is also their DM chat id, and one group chat not yet bound to a project ("项目群（演示）"),
for the butler to bind with `/bind CODE`. Creating them is idempotent: a person whose
account exists, and the demo group once it exists, are left as they are.

"Reset demo" (`reset_demo`) wipes only what the emulator's own platform wrote — its
conversations, outbox rows, inbound dedupe rows and DM chats — and puts the cast back to
their starting name and language. Nothing of another platform is touched, and the work log
is append-only, so its events stay (they are history, not state).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.app import App
from domain.scheme import Scheme
from storage.models import Chat
from storage.uow import UnitOfWork

PLATFORM = "emulator"
_GROUP_ID = re.compile(r"^group-(\d+)$")
DEMO_GROUP = "group-1"  # the demo group's chat id; groups made on the page count on from it
DEMO_GROUP_TITLE = "项目群（演示）"


@dataclass(frozen=True)
class Persona:
    """One member of the demo cast; `key` is their account id and DM chat id."""

    key: str
    name: str
    role: str
    department: str | None = None  # a department id of the active scheme
    lang: str = "zh_CN"


def demo_cast(scheme: Scheme) -> list[Persona]:
    """The cast for `scheme`: specialists come from three different departments of it."""
    depts = [d.id for d in scheme.departments]
    # Fewer than four departments in a scheme: specialists share, rather than fail.
    pick = [depts[i % len(depts)] for i in range(4)]
    return [
        Persona("enterprise", "张伟", "enterprise"),
        Persona("butler", "李娜", "butler", pick[0]),
        Persona("specialist-1", "王强", "specialist", pick[1]),
        Persona("specialist-2", "刘洋", "specialist", pick[2]),
        Persona("specialist-3", "孙丽", "specialist", pick[3]),
        Persona("office", "赵敏", "office"),
        Persona("leader", "陈刚", "leader"),
    ]


async def ensure_demo_cast(app: App) -> list[Persona]:
    """Create every persona that has no `emulator` account yet (idempotent)."""
    cast = demo_cast(app.services.scheme)
    now = app.services.clock.now()
    async with UnitOfWork(app.services.db) as uow:
        for persona in cast:
            if await uow.people.by_account(PLATFORM, persona.key) is not None:
                continue
            person = await uow.people.add(
                persona.name,
                lang=persona.lang,
                roles=[(persona.role, persona.department)],
                now=now,
            )
            await uow.people.add_account(person.id, PLATFORM, persona.key, persona.name, now=now)
            await uow.events.append(
                "demo.persona_created",
                at=now,
                actor_id=person.id,
                data={"key": persona.key, "role": persona.role},
            )
        if await uow.chats.get(PLATFORM, DEMO_GROUP) is None:
            await new_group(uow, DEMO_GROUP_TITLE, now=now, external_id=DEMO_GROUP)
    return cast


async def new_group(
    uow: UnitOfWork, title: str, *, now: datetime, external_id: str | None = None
) -> Chat:
    """A new emulator group chat, bound to no project yet (`group-N`, the next free N)."""
    if external_id is None:
        taken = await uow.chats.external_ids(PLATFORM, "group")
        numbers = [int(m.group(1)) for x in taken if (m := _GROUP_ID.match(x))]
        external_id = f"group-{max(numbers, default=0) + 1}"
    chat = await uow.chats.get_or_create(PLATFORM, external_id, "group", title, now)
    await uow.events.append(
        "demo.group_created", at=now, chat_id=chat.id, data={"chat": external_id, "title": title}
    )
    return chat


async def reset_demo(app: App) -> dict[str, int]:
    """Forget what happened on the emulator platform; returns how many rows went, by table.

    Only rows whose platform is `emulator` are deleted, and only the cast's own persons
    are reset (name, language, mobile, enterprise, claims); people of other platforms are
    untouched.
    """
    cast = {p.key: p for p in demo_cast(app.services.scheme)}
    async with UnitOfWork(app.services.db) as uow:
        removed = await uow.chats.forget_platform(PLATFORM)
        restored: list[int] = []
        for person_id, key in await uow.people.accounts_on(PLATFORM):
            persona = cast.get(key)
            if persona is None:
                continue
            await uow.people.restore(person_id, name=persona.name, lang=persona.lang)
            restored.append(person_id)
        removed["persons_restored"] = len(restored)
        # Their claims on enterprises and their wrong codes go too: a clean slate to train on.
        removed["enterprise_claims"] = await uow.enterprises.forget_claims_of(restored)
        removed["code_attempts"] = await uow.invites.forget_attempts_on(PLATFORM)
        await uow.events.append("demo.reset", at=app.services.clock.now(), data=removed)
    return removed
