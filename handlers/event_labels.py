"""Work-log entries in words (工作日志): an event kind as the reader should see it.

Events are stored with kinds such as ``item.submit`` or ``problem.auto_raised``; those are
for the store and the tests. Anything a person reads names the entry with a label from
here, in their language, and never shows the kind itself.
"""

from __future__ import annotations

from handlers.i18n import N_
from handlers.render import STATE_LABELS, Speaks

EVENT_LABELS = {
    "application.submitted": N_("application submitted"),
    "application.accepted": N_("application accepted"),
    "application.rejected": N_("application rejected"),
    "application.materials_requested": N_("missing documents requested"),
    "application.resubmitted": N_("requested documents sent"),
    "consult.answered_from_faq": N_("question answered from the FAQ"),
    "consult.ticket_opened": N_("question passed to the office"),
    "consult.ticket_taken": N_("question taken"),
    "consult.ticket_answered": N_("question answered"),
    "eligibility.checked": N_("eligibility checked"),
    "item.submit": N_("accepted (受理)"),
    "item.start_review": N_("review started"),
    "item.request_correction": N_("correction requested (补正)"),
    "item.accept_correction": N_("corrections accepted"),
    "item.complete": N_("done (办结)"),
    "item.mark_not_applicable": N_("marked not applicable"),
    "item.reopen": N_("reopened"),
    "item.handed_over": N_("handed over"),
    "item.owner_left": N_("{specialist} left"),
    "log.note": N_("note"),
    "plan.generated": N_("plan made"),
    "plan.add": N_("item added to the plan"),
    "plan.drop": N_("item dropped from the plan"),
    "plan.redate": N_("item re-dated"),
    "problem.auto_raised": N_("problem raised automatically"),
    "problem.escalated": N_("problem raised"),
    "problem.climbed": N_("problem raised a level"),
    "problem.acked": N_("problem taken"),
    "problem.resolved": N_("problem resolved"),
    "project.team_assigned": N_("team assigned"),
    "project.group_bound": N_("group bound"),
    "project.stage_advanced": N_("stage advanced"),
    "project.completion_started": N_("completion started"),
    "project.completion_confirmed": N_("completion confirmed"),
    "project.archived": N_("archived"),
    "project.archive_made": N_("file made (一事一档)"),
    "rating.given": N_("rating given"),
    "rating.followed_up": N_("bad review followed up"),
}
UNKNOWN_EVENT = N_("work-log entry")


def event_label(say: Speaks, kind: str) -> str:
    """The entry's name for the reader; an unknown kind reads as a plain work-log entry."""
    return say._(EVENT_LABELS.get(kind, UNKNOWN_EVENT))


def event_note(say: Speaks, data: dict[str, object]) -> str:
    """What an entry adds in words: its note or reason, else the state an item moved to."""
    note = data.get("note") or data.get("reason")
    if note:
        return str(note)
    state = data.get("to")
    if isinstance(state, str) and state in STATE_LABELS:
        return say._(STATE_LABELS[state])
    return ""
