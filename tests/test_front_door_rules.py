"""Pure rules of the front door: documents, numbers, snapshot, eligibility facts, hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.application import (
    AUTHORIZATION_KEY,
    application_number,
    facts_asked,
    material,
    materials_for,
    needs_written_authorization,
    project_code,
    project_snapshot,
    service_card_number,
)
from domain.calendar import WorkCalendar
from domain.scheme_loader import load_scheme
from reminders.tickets import working_time_between

TZ = ZoneInfo("Asia/Shanghai")


def test_materials_follow_the_category_and_are_asked_once() -> None:
    scheme = load_scheme("tongzhou")
    low_risk = materials_for(scheme, "low_risk")
    funded = materials_for(scheme, "government_funded")
    assert any(m.key == "project_proposal/proposal_report" for m in funded)
    assert all(m.key != "project_proposal/proposal_report" for m in low_risk)
    names = [m.name.zh for m in funded]
    assert len(names) == len(set(names))
    assert material(scheme, "energy_review/energy_report").how_to_obtain.zh  # type: ignore[union-attr]


def test_written_authorization_only_where_the_scheme_needs_it() -> None:
    assert needs_written_authorization(load_scheme("guangzhou"), ["agency"])
    assert not needs_written_authorization(load_scheme("guangzhou"), ["consult", "guide"])
    assert not needs_written_authorization(load_scheme("tongzhou"), ["agency"])
    assert material(load_scheme("guangzhou"), AUTHORIZATION_KEY) is not None


def test_numbers() -> None:
    assert application_number(7, 2026) == "A2026-0007"
    assert project_code(2026, 1) == "P2026-0001"
    assert service_card_number("SYVIP", 2026, 12) == "SYVIP-2026-0012"


def test_snapshot_keeps_the_category_checklist_and_the_ladder() -> None:
    scheme = load_scheme("tongzhou")
    snap = project_snapshot(scheme, "low_risk")
    ids = {item["id"] for item in snap["checklist"]}
    assert ids == {item.id for item in scheme.items_for("low_risk")}
    assert all(set(item["prerequisites"]) <= ids for item in snap["checklist"])
    assert [level["level"] for level in snap["escalation"]] == [1, 2, 3, 4]


def test_only_the_facts_the_rules_read_are_asked() -> None:
    assert set(facts_asked(load_scheme("tongzhou").eligibility)) == {
        "designated_by_meeting",
        "in_investment_library",
        "investment_wan",
    }
    assert set(facts_asked(load_scheme("guangzhou").eligibility)) == {
        "on_key_list",
        "funding",
        "approval_level",
    }


def test_working_time_counts_office_hours_on_working_days_only() -> None:
    hours = load_scheme("tongzhou").reminders.working_hours  # 09:00–18:00
    calendar = WorkCalendar()
    friday_five = datetime(2026, 11, 27, 17, 0, tzinfo=TZ)
    monday_ten = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
    assert working_time_between(friday_five, monday_ten, calendar, hours).total_seconds() == 7200
    night = datetime(2026, 11, 27, 20, 0, tzinfo=TZ)
    assert working_time_between(night, datetime(2026, 11, 28, 8, tzinfo=TZ), calendar, hours) == (
        working_time_between(night, night, calendar, hours)
    )
