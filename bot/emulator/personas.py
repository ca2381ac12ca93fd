"""Who you can be on the page (人员切换) and which chats they see.

A persona is a demo-cast member with an `emulator` account; their DM with the bot has the
account's external id as chat id. Their groups are the `emulator` group chats whose
project has them as a member; a group not tied to a project yet is shown to everyone (as
if everyone had been added to it), so the butler can bind it and the rest can watch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.demo import PLATFORM, Persona
from domain.scheme import Scheme
from storage.models import Chat
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class PersonaView:
    key: str
    person_id: int
    name: str
    role: str
    department: str | None
    lang: str

    def to_json(self, scheme: Scheme, ui_lang: str) -> dict[str, Any]:
        en = ui_lang == "en"
        local = getattr(scheme.roles, self.role, None)
        role_label = (local.en if en else local.zh) if local else self.role
        dept = None
        if self.department:
            found = next((d for d in scheme.departments if d.id == self.department), None)
            dept = (found.name.en if en else found.name.zh) if found else self.department
        return {
            "key": self.key,
            "name": self.name,
            "role": self.role,
            "role_label": role_label,
            "department": self.department,
            "department_label": dept,
            "lang": self.lang,
        }


async def persona_views(uow: UnitOfWork, cast: list[Persona]) -> list[PersonaView]:
    """The cast as it stands in the store now (names and languages change in chat)."""
    views = []
    for persona in cast:
        person = await uow.people.by_account(PLATFORM, persona.key)
        if person is None:
            continue
        views.append(
            PersonaView(
                persona.key, person.id, person.name, persona.role, persona.department, person.lang
            )
        )
    return views


async def persona_view(uow: UnitOfWork, cast: list[Persona], key: str) -> PersonaView | None:
    for view in await persona_views(uow, [p for p in cast if p.key == key]):
        return view
    return None


async def chats_of(uow: UnitOfWork, person_id: int) -> list[dict[str, Any]]:
    """The persona's group chats on the emulator platform (the DM is always there too),
    each with the code of the project it is bound to (None while unbound)."""
    return [
        {
            "id": chat.external_id,
            "kind": "group",
            "title": chat.title or chat.external_id,
            "project": code,
        }
        for chat, code in await uow.chats.groups_seen_by(PLATFORM, person_id)
    ]


async def group_of(uow: UnitOfWork, chat_id: str) -> Chat | None:
    """The emulator group chat with this external id, or None (then it is a DM)."""
    chat = await uow.chats.get(PLATFORM, chat_id)
    return chat if chat is not None and chat.kind == "group" else None
