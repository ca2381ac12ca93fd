"""A locality's way of running the agency service, as data: the scheme (代办方案).

A new locality is a new YAML file under ``schemes/``, never new code. The models here
are strict (unknown keys are errors) and frozen. Cross-references (departments, stages,
categories, prerequisites, roles) are checked by `domain.scheme_checks` once the structure
is valid; `domain.scheme_loader` runs both and reports every problem with its path.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal, Protocol, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from domain.eligibility import Condition, Verdict


def _snake_case(value: str) -> str:
    if (
        not value
        or not value[0].isascii()
        or not value[0].islower()
        or not all(ch.isascii() and (ch.islower() or ch.isdigit() or ch == "_") for ch in value)
    ):
        raise ValueError(f"must be a snake_case id (a-z, 0-9, _), got {value!r}")
    return value


def _clock(value: object) -> dt.time:
    # YAML 1.1 reads an unquoted 18:00 as the sexagesimal integer 1080.
    if not isinstance(value, str):
        raise ValueError(f'write clock times as quoted "HH:MM" strings, got {value!r}')
    try:
        hours, minutes = (int(part) for part in value.split(":"))
        return dt.time(hours, minutes)
    except ValueError:
        raise ValueError(f'expected a clock time "HH:MM", got {value!r}') from None


Id = Annotated[str, AfterValidator(_snake_case)]
"""A snake_case identifier shared across presets where meanings match."""

ClockTime = Annotated[dt.time, BeforeValidator(_clock)]
"""A wall-clock time written as a quoted "HH:MM" string."""

RoleId = Literal["enterprise", "butler", "specialist", "backup", "office", "leader"]
"""The six roles every scheme names locally (角色)."""

Text = Annotated[str, Field(min_length=1)]


class SchemeModel(BaseModel):
    """Base of every scheme model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Label(SchemeModel):
    """A user-facing text (文案) in both languages; Chinese and English are required."""

    zh: Text
    en: Text

    def text(self, lang: str = "zh") -> str:
        """The text in `lang` ("zh" or "en"); Chinese for anything else."""
        return self.en if lang == "en" else self.zh


class Assumable(SchemeModel):
    """A model that may carry values not found in the seed document (假定值).

    ``assumed: true`` marks the whole entry as invented; a list of field names marks
    only those fields.
    """

    assumed: bool | tuple[str, ...] = False

    @model_validator(mode="after")
    def _assumed_names_are_fields(self) -> Self:
        if isinstance(self.assumed, tuple):
            known = {name for name in type(self).model_fields if name != "assumed"}
            known |= {f.alias for f in type(self).model_fields.values() if f.alias}
            unknown = [name for name in self.assumed if name not in known]
            if unknown:
                raise ValueError(
                    f"assumed names unknown fields {unknown} (fields: {', '.join(sorted(known))})"
                )
        return self

    @property
    def assumed_count(self) -> int:
        """How many values of this entry (not its children) are assumed."""
        if isinstance(self.assumed, tuple):
            return len(self.assumed)
        return 1 if self.assumed else 0


class Source(SchemeModel):
    """Which seed document the scheme follows and what that document is (来源)."""

    document: Text
    title: Label
    issuer: Label
    date: Text | None = None


class ServiceKind(Assumable):
    """One kind of service the locality offers (服务方式), e.g. consult, agency."""

    id: Id
    label: Label
    description: Label
    requires_written_authorization: bool = False


class RoleName(Label):
    """A role's local name, written as a heading ("Agency officer"); English text lower-cases
    it mid-sentence (handlers/role_placement.py)."""


class Roles(Assumable):
    """Local names of the six roles (角色名称)."""

    enterprise: RoleName
    butler: RoleName
    specialist: RoleName
    backup: RoleName
    office: RoleName
    leader: RoleName


class Department(Assumable):
    """An approval department or public-service unit (审批部门/公共服务单位)."""

    id: Id
    name: Label


class Zone(Assumable):
    """A zone, street or park the office reports by (区域：街道、乡镇、园区). A project's
    location belongs to the first zone whose name or alias it contains."""

    id: Id
    label: Label
    aliases: tuple[Text, ...] = ()

    def matches(self, location: str) -> bool:
        """Whether a project's location (free text) lies in this zone."""
        names = (self.label.zh, self.label.en, *self.aliases)
        return any(name and name.lower() in location.lower() for name in names)


class Category(Assumable):
    """A project category with its overall time limit in working days (项目类别·审批时限)."""

    id: Id
    label: Label
    limit_workdays: Annotated[int, Field(gt=0)]


class Stage(Assumable):
    """A stage of a construction project (建设阶段); order is the list order."""

    id: Id
    label: Label


class Material(SchemeModel):
    """A document the enterprise must supply (申请材料) and how to obtain it."""

    id: Id
    name: Label
    how_to_obtain: Label


class ChecklistItem(Assumable):
    """One approval item (审批事项) of the catalogue.

    ``limit_workdays: 0`` means handled on the spot (即办件). ``categories`` empty means
    every category; a prerequisite that does not apply to a project's category is skipped.
    """

    id: Id
    name: Label
    department: Id
    stage: Id
    limit_workdays: Annotated[int, Field(ge=0)]
    prerequisites: tuple[Id, ...] = ()
    categories: tuple[Id, ...] = ()
    materials: tuple[Material, ...] = ()


class EscalationLevel(Assumable):
    """One rung of the dispatch ladder (分级调度)."""

    level: Annotated[int, Field(ge=1)]
    name: Label
    dispatcher: Label
    for_: Label = Field(alias="for")
    notify_roles: Annotated[tuple[RoleId, ...], Field(min_length=1)]
    threshold_workdays_overdue: Annotated[int, Field(ge=0)]
    ack_timeout_workdays: Annotated[int, Field(ge=1)] = 1
    ack_suppresses_workdays: Annotated[int, Field(ge=0)] = 2


class WorkingHours(SchemeModel):
    """Office hours in which reminders may be sent (工作时间)."""

    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if self.start >= self.end:
            raise ValueError("working_hours.start must be before working_hours.end")
        return self


class Reminders(Assumable):
    """When items are reminded and handed to the backup (提醒与补位)."""

    before_due_workdays: Annotated[int, Field(ge=0)]
    backup_after_overdue_workdays: Annotated[int, Field(ge=0)]
    working_hours: WorkingHours
    nudge_time: ClockTime

    @model_validator(mode="after")
    def _nudge_in_working_hours(self) -> Self:
        if not self.working_hours.start <= self.nudge_time < self.working_hours.end:
            raise ValueError("nudge_time must fall inside working_hours")
        return self


class Consultation(Assumable):
    """How quickly an unanswered question is reminded (首问负责)."""

    ticket_reminder_work_hours: Annotated[int, Field(ge=1)]


class RatingCycle(StrEnum):
    """How often the service is rated (考评周期)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class Reports(Assumable):
    """Digests, dispatch meetings and periodic reports (报送与考评)."""

    digest_time: ClockTime
    weekly_dispatch_weekday: Annotated[int, Field(ge=1, le=7)] | None = None
    monthly_report_day: Annotated[int, Field(ge=1, le=28)] | None = None
    quarterly_statistics_within_workdays: Annotated[int, Field(ge=1)] | None = None
    rating_cycle: RatingCycle
    bad_review_rectify_workdays: Annotated[int, Field(ge=1)] = 15


class Acceptance(Assumable):
    """What happens at acceptance and closing (受理与办结)."""

    application_form: Label | None = None
    issues_service_card: bool = False
    service_card_prefix: str | None = None
    requires_written_authorization_for: tuple[Id, ...] = ()
    completion_form: bool = False
    return_visit: bool = False
    results_by_free_mail: bool = False

    @model_validator(mode="after")
    def _card_prefix_with_card(self) -> Self:
        if self.issues_service_card and not self.service_card_prefix:
            raise ValueError("issues_service_card needs a service_card_prefix")
        return self


class FaqEntry(Assumable):
    """A knowledge-base entry (常见问题) the consultation flow can answer from."""

    id: Id
    question: Label
    keywords: Annotated[tuple[Text, ...], Field(min_length=1)]
    answer: Label


class EligibilityRule(Assumable):
    """One rule of the pre-check (受理条件). Rules are tried in order; the last has no `when`.

    The first rule whose ``when`` holds decides with its ``verdict``; ``hint`` tells the
    enterprise what it can do next (e.g. apply for designation by a government meeting).
    """

    id: Id
    verdict: Verdict
    label: Label
    hint: Label | None = None
    when: Condition | None = None


class Scheme(Assumable):
    """A locality's whole scheme (代办方案): one preset, loaded from one YAML file."""

    id: Id
    name: Label
    locality: Label
    service_name: Label
    free_of_charge: bool
    free_of_charge_promise: Label | None = None
    source: Source
    timezone: Text = "Asia/Shanghai"
    hotline: Text | None = None
    service_kinds: Annotated[tuple[ServiceKind, ...], Field(min_length=1)]
    roles: Roles
    departments: Annotated[tuple[Department, ...], Field(min_length=1)]
    eligibility: Annotated[tuple[EligibilityRule, ...], Field(min_length=1)]
    categories: Annotated[tuple[Category, ...], Field(min_length=1)]
    stages: Annotated[tuple[Stage, ...], Field(min_length=1)]
    checklist: tuple[ChecklistItem, ...] = ()
    escalation: Annotated[tuple[EscalationLevel, ...], Field(min_length=1)]
    reminders: Reminders
    consultation: Consultation
    reports: Reports
    acceptance: Acceptance
    faq: tuple[FaqEntry, ...] = ()
    zones: tuple[Zone, ...] = ()

    def zone_of(self, location: str | None) -> Zone | None:
        """The scheme's zone a project's location lies in, or None."""
        if not location:
            return None
        return next((zone for zone in self.zones if zone.matches(location)), None)

    def department(self, department_id: str) -> Department:
        """The department with this id; KeyError if unknown."""
        return _by_id(self.departments, department_id)

    def category(self, category_id: str) -> Category:
        """The category with this id; KeyError if unknown."""
        return _by_id(self.categories, category_id)

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id; KeyError if unknown."""
        return _by_id(self.stages, stage_id)

    def item(self, item_id: str) -> ChecklistItem:
        """The checklist item with this id; KeyError if unknown."""
        return _by_id(self.checklist, item_id)

    def service_kind(self, kind_id: str) -> ServiceKind:
        """The service kind with this id; KeyError if unknown."""
        return _by_id(self.service_kinds, kind_id)

    def items_for(self, category_id: str) -> tuple[ChecklistItem, ...]:
        """The checklist items that apply to a project of this category, in catalogue order."""
        return tuple(i for i in self.checklist if not i.categories or category_id in i.categories)


def _by_id(entries: tuple[_T, ...], wanted: str) -> _T:
    for entry in entries:
        if entry.id == wanted:
            return entry
    raise KeyError(wanted)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_T = TypeVar("_T", bound=_HasId)


def count_assumed(model: BaseModel) -> int:
    """How many values in `model` and everything inside it are marked assumed (假定值)."""
    total = model.assumed_count if isinstance(model, Assumable) else 0
    for name in type(model).model_fields:
        value = getattr(model, name)
        children = value if isinstance(value, tuple) else (value,)
        total += sum(count_assumed(child) for child in children if isinstance(child, BaseModel))
    return total
