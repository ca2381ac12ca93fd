"""Tests that need something beyond Python (测试前提): one rule for all of them.

On a developer's machine a missing prerequisite skips the test with a reason that names the
command that enables it, and the run's summary gathers those reasons at the end; under
``CI=true`` the test fails instead, so CI can never pass without having run it.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

NOT_RUN = "not run:"  # every reason given here starts with it; the summary looks for it


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(what: str, enable: str) -> NoReturn:
    """Skip (locally) or fail (in CI) a test whose prerequisite ``what`` is missing."""
    reason = f"{NOT_RUN} {what}; enable with: {enable}"
    if in_ci():
        pytest.fail(f"{reason} (CI=true: nothing may be skipped)")
    pytest.skip(reason)
