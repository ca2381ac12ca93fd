"""The root router: every flow's router, in the order they are asked and /help lists them."""

from handlers import (
    activity,
    apply,
    basics,
    completion,
    consult,
    contacts,
    eligibility_check,
    groups,
    items,
    mine,
    mute,
    office,
    office_files,
    people,
    plan,
    problems,
    profile,
    progress,
    rating,
    roster_upload,
    status,
    team,
    waiting,
)
from handlers import digest as digest_flow
from handlers.router import Router


def build_router() -> Router:
    root = Router("root")
    # Everyone's commands first, then the team's, the butler's and the office's.
    root.include(basics.router)
    root.include(profile.router)
    root.include(eligibility_check.router)
    root.include(apply.router)
    root.include(progress.router)
    root.include(status.router)
    root.include(mine.router)
    root.include(items.router)
    root.include(team.router)
    root.include(people.router)
    root.include(groups.router)
    root.include(plan.router)
    root.include(completion.router)
    root.include(office_files.router)
    root.include(basics.controls)
    root.include(problems.router)
    root.include(digest_flow.router)
    root.include(rating.router)
    root.include(activity.router)
    root.include(office.router)
    root.include(contacts.router)
    root.include(waiting.router)
    root.include(mute.router)
    root.include(roster_upload.router)
    # Last: its free-text route takes whatever no other flow answered in a direct chat.
    root.include(consult.router)
    return root
