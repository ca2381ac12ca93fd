"""Where the tests find PostgreSQL (测试数据库): one rule for every test that needs it.

``DAIBAN_TEST_POSTGRES_URL`` names an admin URL (``.ci/run`` sets it to the machine's
server). Unset on a developer's laptop, PostgreSQL tests are skipped and the summary says
so; unset under ``CI=true``, they fail, so CI can never pass without having run them.
"""

from __future__ import annotations

import os

import pytest

PG_ENV = "DAIBAN_TEST_POSTGRES_URL"
PG_SKIP_REASON = "DAIBAN_TEST_POSTGRES_URL not set: PostgreSQL storage tests skipped"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pg_admin_url() -> str:
    """The admin URL; skips the test locally, fails it in CI, when it is not configured."""
    url = os.environ.get(PG_ENV)
    if url:
        return url
    if in_ci():
        pytest.fail(f"{PG_ENV} is not set under CI=true: PostgreSQL tests must run in CI")
    pytest.skip(PG_SKIP_REASON)
