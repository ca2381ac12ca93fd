"""Reachability (能否联系到): whether a person can receive what the bot sends them.

A person of the roster is *pending* (未激活) until they bind a messenger account with
their code; an account the platform refused (left the organisation, blocked the bot) is
*unreachable* (无法联系). Someone is reachable while one account is not marked so.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Reach(StrEnum):
    REACHABLE = "reachable"
    PENDING = "pending"  # never activated: no account bound
    UNREACHABLE = "unreachable"  # every bound account was refused by its platform


def reach_of(refused: Iterable[bool]) -> Reach:
    """A person's reach from their accounts, each given as whether it is refused."""
    flags = list(refused)
    if not flags:
        return Reach.PENDING
    return Reach.UNREACHABLE if all(flags) else Reach.REACHABLE


__all__ = ["Reach", "reach_of"]
