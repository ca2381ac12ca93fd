"""Words for what the office's files show (台账与档案用语): project statuses and the work
log's events by name, never by their internal kind (``item.submit`` → 受理)."""

from __future__ import annotations

from typing import Any

from handlers.i18n import N_
from handlers.render import Speaks
from storage.models import Event

PROJECT_STATUS_LABELS = {
    "accepted": N_("Accepted, awaiting its {butler}"),
    "in_progress": N_("In service"),
    "completing": N_("Awaiting the enterprise's confirmation"),
    "archived": N_("Completed and archived"),
    "completed": N_("Completed"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}

EVENT_LABELS = {
    "application.submitted": N_("Application submitted"),
    "application.resubmitted": N_("Application resubmitted"),
    "application.accepted": N_("Application accepted"),
    "application.rejected": N_("Application not accepted"),
    "application.materials_requested": N_("Missing materials requested (一次性告知)"),
    "project.team_assigned": N_("Team assigned"),
    "project.group_bound": N_("Project group bound"),
    "project.stage_advanced": N_("Stage advanced"),
    "project.completion_started": N_("Completion form sent for confirmation"),
    "project.completion_confirmed": N_("Completion confirmed by the enterprise"),
    "project.archived": N_("Project archived"),
    "project.archive_made": N_("Project file made"),
    "plan.generated": N_("Plan drawn up"),
    "plan.add": N_("Item added to the plan"),
    "plan.drop": N_("Item dropped from the plan"),
    "plan.redate": N_("Item re-dated"),
    "project.specialist_chosen": N_("Team member chosen for a department"),
    "consult.answered_from_faq": N_("Question answered from the FAQ"),
    "consult.ticket_opened": N_("Question passed to the office"),
    "consult.ticket_taken": N_("Question taken up"),
    "consult.ticket_answered": N_("Question answered"),
    "eligibility.checked": N_("Eligibility checked"),
    "item.submit": N_("Item accepted (受理)"),
    "item.start_review": N_("Item in review (办理中)"),
    "item.request_correction": N_("Corrections requested (补正)"),
    "item.accept_correction": N_("Corrected materials accepted (重新受理)"),
    "item.complete": N_("Item completed (办结)"),
    "item.mark_not_applicable": N_("Item marked not applicable"),
    "item.reopen": N_("Item reopened"),
    "item.nudged": N_("Reminder sent"),
    "item.handed_over": N_("Item handed over"),
    "item.owner_left": N_("Item's {specialist} left"),
    "problem.auto_raised": N_("Problem raised automatically"),
    "problem.escalated": N_("Problem escalated"),
    "problem.climbed": N_("Problem moved up a level"),
    "problem.acked": N_("Problem taken up"),
    "problem.resolved": N_("Problem resolved"),
    "log.note": N_("Work log note"),
    "rating.given": N_("Rating given"),
    "rating.followed_up": N_("Rating followed up"),
}
OTHER_EVENT = N_("Other record")

RATING_LEVELS = {
    5: N_("Very satisfied"),
    4: N_("Satisfied"),
    3: N_("Fairly satisfied"),
    2: N_("Dissatisfied"),
    1: N_("Very dissatisfied"),
}
"""The national five-level scale (非常满意 … 非常不满意), as handlers/rating.py asks it."""

QUIET_EVENTS = frozenset({"project.archive_made", "item.nudged"})
"""Events that are records of the bot's own doing, not progress of the project."""

_DETAIL_KEYS = ("text", "reason", "minutes", "note", "comment")


def project_status(say: Speaks, status: str) -> str:
    """A project's status in words."""
    return say._(PROJECT_STATUS_LABELS.get(status, N_("In service")))


def event_name(say: Speaks, kind: str) -> str:
    """An event's name in words; an unknown kind is an 'other record', never its code."""
    return say._(EVENT_LABELS.get(kind, OTHER_EVENT))


def event_detail(event: Event) -> str:
    """What a person wrote with the event (a note, a reason, minutes), else nothing."""
    data: dict[str, Any] = event.data or {}
    for key in _DETAIL_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


__all__ = [
    "EVENT_LABELS",
    "PROJECT_STATUS_LABELS",
    "QUIET_EVENTS",
    "RATING_LEVELS",
    "event_detail",
    "event_name",
    "project_status",
]
