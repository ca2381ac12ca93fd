"""The root router: every flow's router, in the order they are asked."""

from handlers import basics, profile
from handlers.router import Router


def build_router() -> Router:
    root = Router("root")
    root.include(basics.router)
    root.include(profile.router)
    return root
