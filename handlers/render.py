"""Rendering (呈现): the names and texts every flow shows, in the reader's language.

`Voice` translates, then formats, for someone other than the sender (the office reading a
card, the enterprise a notice, a leader a digest); a `Ctx` does the same for the sender.
Both are `Speaks`, so a renderer takes either and never asks whose language it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from domain.scheme import RoleName, Scheme
from handlers.i18n import N_, translate
from handlers.role_placement import RoleWord
from handlers.roles import ROLES
from storage.models import ChecklistItem, Department
from storage.uow import UnitOfWork

STATE_LABELS = {
    "not_started": N_("not started"),
    "submitted": N_("submitted (受理)"),
    "in_review": N_("in review (办理中)"),
    "correction_needed": N_("correction needed (补正)"),
    "done": N_("done (办结)"),
    "not_applicable": N_("not applicable"),
}

BAR_CELLS = 10


class Speaks(Protocol):
    """Anything that renders text in one person's language (a `Ctx`, a `Voice`)."""

    @property
    def lang(self) -> str: ...
    def _(self, message: str, **params: Any) -> str: ...
    def label(self, label: Any) -> str: ...


ROLE_FIELDS = ROLES
_ROLE_FIELD = re.compile(r"\{(?:butler|specialist|backup|office|leader)\}")


def names_roles(message: str) -> bool:
    """Whether a message id takes role words ({butler}, {specialist}, {backup}, {office},
    {leader}) that the scheme fills in."""
    return _ROLE_FIELD.search(message) is not None


def role_words(say: Speaks, scheme: Scheme) -> dict[str, str]:
    """The scheme's six role words (角色名称) in the reader's language, by role id."""
    return {role: say.label(getattr(scheme.roles, role)) for role in ROLE_FIELDS}


@dataclass(frozen=True)
class Voice:
    """Text in someone else's language: the office reading a card, the enterprise a notice.

    With a `scheme`, a message naming roles ({butler}, {office}, …) gets the scheme's words;
    a field passed explicitly wins."""

    lang: str
    scheme: Scheme | None = None

    def _(self, message: str, **params: Any) -> str:
        if self.scheme is not None and names_roles(message):
            params = {**role_words(self, self.scheme), **params}
        return translate(self.lang, message, **params)

    def label(self, label: Any) -> str:
        text = str(label.en if self.lang == "en" else label.zh)
        return RoleWord(text) if isinstance(label, RoleName) else text


def item_name(say: Speaks, item: ChecklistItem) -> str:
    """An item's name in the reader's language."""
    return item.name_en if say.lang == "en" else item.name_zh


def item_number(item: ChecklistItem) -> int:
    """The item's number in its project's plan: lists and the handbook show it, and `/item N`
    and `/plan … N` take it, so nobody has to type an internal code."""
    return item.sort + 1


def stage_name(say: Speaks, scheme: Scheme, stage: str) -> str:
    """A stage's name in the reader's language (its id if the scheme lost it)."""
    try:
        return say.label(scheme.stage(stage).label)
    except KeyError:
        return stage


def department_label(say: Speaks, department: Department | None) -> str:
    """A department's name in the reader's language, or a dash."""
    if department is None:
        return "—"
    return department.name_en if say.lang == "en" else department.name_zh


async def department_name(uow: UnitOfWork, department_id: int | None, lang: str) -> str:
    """A department's name in ``lang``, or a dash."""
    if department_id is None:
        return "—"
    return await uow.departments.name(department_id, lang) or "—"


def due_text(say: Speaks, due: date | None, provisional: bool) -> str:
    """A due date, marked provisional (待定) when it relies on an unknown calendar year."""
    if due is None:
        return "—"
    shown = due.isoformat()
    return shown + say._(" (provisional)") if provisional else shown


def local_time(at: datetime | None, timezone: ZoneInfo) -> str:
    """A moment as the office's wall clock shows it (``2026-11-23 09:30``), or a dash."""
    return at.astimezone(timezone).strftime("%Y-%m-%d %H:%M") if at else "—"


def state_text(say: Speaks, item: ChecklistItem) -> str:
    """An item's state in words."""
    return say._(STATE_LABELS.get(item.state, item.state))


def progress_bar(done: int, total: int) -> str:
    """``▓▓▓▓░░░░░░ 4/10``: items ticked off (销号) of the items that apply."""
    filled = round(BAR_CELLS * done / total) if total else 0
    return "▓" * filled + "░" * (BAR_CELLS - filled) + f" {done}/{total}"


def counts(items: list[ChecklistItem]) -> tuple[int, int]:
    """(done, total) over the items that apply to the project."""
    live = [i for i in items if i.state != "not_applicable"]
    return sum(1 for i in live if i.state == "done"), len(live)
