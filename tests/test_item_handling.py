"""Items as offices handle them: what a 补正 notice lists, and where a stage moves on to."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from handlers.item_corrections import missing_list
from handlers.stage_advance import next_open_stage

STAGES = ["approval", "planning", "construction", "acceptance", "handover"]


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("消防检测报告", ["消防检测报告"]),
        ("1. 消防检测报告\n2、竣工图纸\n\n3) 承诺书", ["消防检测报告", "竣工图纸", "承诺书"]),
        ("计算书；平面图（盖章）; 说明", ["计算书", "平面图（盖章）", "说明"]),
        ("- a\n• b\n  ", ["a", "b"]),
    ],
)
def test_a_correction_lists_each_missing_thing_once_in_order(reason, expected) -> None:
    assert missing_list(reason) == expected


def _item(stage: str, state: str) -> Any:
    return SimpleNamespace(stage=stage, state=state)


def test_a_stage_with_an_open_item_stays() -> None:
    items = [_item("planning", "done"), _item("planning", "in_review")]
    assert next_open_stage(STAGES, "planning", items) == "planning"


def test_a_closed_stage_moves_on_past_closed_and_empty_stages() -> None:
    items = [
        _item("planning", "done"),
        _item("planning", "not_applicable"),
        _item("construction", "done"),
        _item("acceptance", "not_started"),
    ]
    assert next_open_stage(STAGES, "planning", items) == "acceptance"
    assert next_open_stage(STAGES, "approval", items) == "acceptance"


def test_the_last_stage_is_never_passed_and_an_unknown_one_stays() -> None:
    items = [_item(s, "done") for s in STAGES]
    assert next_open_stage(STAGES, "acceptance", items) == "handover"
    assert next_open_stage(STAGES, "handover", items) == "handover"
    assert next_open_stage(STAGES, "lost_stage", items) == "lost_stage"
