"""The root router: every flow's router, in the order they are asked."""

from handlers import (
    apply,
    basics,
    completion,
    consult,
    eligibility_check,
    items,
    office,
    plan,
    problems,
    profile,
    progress,
    rating,
    status,
    team,
    waiting,
)
from handlers import digest as digest_flow
from handlers.router import Router


def build_router() -> Router:
    root = Router("root")
    root.include(basics.router)
    root.include(profile.router)
    root.include(eligibility_check.router)
    root.include(apply.router)
    root.include(office.router)
    root.include(progress.router)
    root.include(team.router)
    root.include(plan.router)
    root.include(items.router)
    root.include(status.router)
    root.include(completion.router)
    root.include(problems.router)
    root.include(digest_flow.router)
    root.include(rating.router)
    root.include(waiting.router)
    # Last: its free-text route takes whatever no other flow answered in a direct chat.
    root.include(consult.router)
    return root
