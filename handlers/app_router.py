"""The root router: every flow's router, in the order they are asked."""

from handlers import apply, basics, consult, eligibility_check, office, profile, progress
from handlers.router import Router


def build_router() -> Router:
    root = Router("root")
    root.include(basics.router)
    root.include(profile.router)
    root.include(eligibility_check.router)
    root.include(apply.router)
    root.include(office.router)
    root.include(progress.router)
    # Last: its free-text route takes whatever no other flow answered in a direct chat.
    root.include(consult.router)
    return root
