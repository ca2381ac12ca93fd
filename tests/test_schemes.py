"""The five locality presets, the scheme loader's error reporting and the eligibility rules."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from domain.eligibility import ProjectFacts, Verdict, evaluate_eligibility
from domain.scheme import Scheme, count_assumed
from domain.scheme_loader import DEFAULT_SCHEMES_DIR, SchemeError, list_presets, load_scheme
from domain.scheme_summary import summarize

PRESETS = ["anshan", "guangzhou", "jinniu", "sanyuan", "tongzhou"]


@pytest.fixture(scope="module", params=PRESETS)
def scheme(request: pytest.FixtureRequest) -> Scheme:
    return load_scheme(request.param)


def test_all_five_presets_are_listed() -> None:
    assert list_presets() == PRESETS


def test_preset_loads_and_meets_the_minimums(scheme: Scheme) -> None:
    assert len(scheme.faq) >= 12
    assert scheme.checklist
    assert [s.id for s in scheme.stages] == [
        "project_approval",
        "planning_permit",
        "construction_permit",
        "completion_acceptance",
        "handover",
    ]
    assert scheme.timezone == "Asia/Shanghai"
    assert scheme.source.document.startswith("seeds/")


def test_faq_keywords_are_in_both_languages(scheme: Scheme) -> None:
    for entry in scheme.faq:
        assert any(re.search(r"[\u4e00-\u9fff]", word) for word in entry.keywords), entry.id
        assert any(re.search(r"[A-Za-z]", word) for word in entry.keywords), entry.id


def test_every_preset_marks_some_values_assumed(scheme: Scheme) -> None:
    assert count_assumed(scheme) > 0


def test_ids_are_shared_where_meanings_match() -> None:
    schemes = {name: load_scheme(name) for name in PRESETS}
    kinds = {name: [k.id for k in s.service_kinds] for name, s in schemes.items()}
    assert kinds == {
        "tongzhou": ["consult", "coordinate", "agency"],
        "sanyuan": ["agency", "guide"],
        "guangzhou": ["consult", "guide", "coordinate", "agency"],
        "anshan": ["help", "agency", "lead"],
        "jinniu": ["help", "agency"],
    }
    for s in schemes.values():
        departments = {d.id for d in s.departments}
        assert {"development_reform", "housing_construction", "planning_natural_resources"} <= (
            departments
        )
        assert s.item("construction_permit").department == "housing_construction"


def test_sanyuan_category_limits_are_the_seeds() -> None:
    limits = {c.id: c.limit_workdays for c in load_scheme("sanyuan").categories}
    assert limits == {
        "building": 70,
        "industrial": 70,
        "land_with_plan": 50,
        "small": 42,
        "low_risk": 8,
    }
    assert not any(c.assumed for c in load_scheme("sanyuan").categories)


def test_tongzhou_ladder_has_the_four_levels_of_the_domain() -> None:
    ladder = load_scheme("tongzhou").escalation
    assert [level.level for level in ladder] == [1, 2, 3, 4]
    assert [level.dispatcher.zh for level in ladder][:3] == ["区重大项目中心", "区住建委", "执行组"]
    assert ladder[3].dispatcher.zh.startswith("区级工作组")
    assert [level.for_.zh for level in ladder] == [
        "一般性工作",
        "综合性问题",
        "重点疑难问题",
        "重大问题",
    ]
    thresholds = [level.threshold_workdays_overdue for level in ladder]
    assert thresholds == sorted(set(thresholds))


def test_guangzhou_agency_requires_written_authorization() -> None:
    guangzhou = load_scheme("guangzhou")
    assert guangzhou.service_kind("agency").requires_written_authorization
    assert guangzhou.acceptance.requires_written_authorization_for == ("agency",)
    assert guangzhou.reports.quarterly_statistics_within_workdays == 5


def test_jinniu_reports_monthly_on_the_25th_and_visits_back() -> None:
    jinniu = load_scheme("jinniu")
    assert jinniu.reports.monthly_report_day == 25
    assert jinniu.acceptance.return_visit


def test_sanyuan_issues_service_cards() -> None:
    acceptance = load_scheme("sanyuan").acceptance
    assert acceptance.issues_service_card and acceptance.service_card_prefix


def test_anshan_has_the_12345_hotline_and_a_backup_officer() -> None:
    anshan = load_scheme("anshan")
    assert anshan.hotline == "12345"
    assert anshan.roles.butler.zh == "代办长" and anshan.roles.backup.zh == "候补代办员"


# --- eligibility -------------------------------------------------------------------------


def _check(name: str, **facts: object) -> tuple[Verdict, str]:
    result = evaluate_eligibility(load_scheme(name).eligibility, ProjectFacts.model_validate(facts))
    return result.verdict, result.rule_id


def test_tongzhou_library_project_of_12_yi_is_eligible() -> None:
    result = evaluate_eligibility(
        load_scheme("tongzhou").eligibility,
        ProjectFacts(
            investment_wan=Decimal(120000), in_investment_library=True, designated_by_meeting=False
        ),
    )
    assert (result.verdict, result.rule_id) == (Verdict.ELIGIBLE, "library_and_1_billion")
    assert result.facts == {"in_investment_library": True, "investment_wan": Decimal(120000)}


def test_tongzhou_8_yi_is_not_eligible_with_the_designation_hint() -> None:
    result = evaluate_eligibility(
        load_scheme("tongzhou").eligibility,
        ProjectFacts(
            investment_wan=Decimal(80000), in_investment_library=True, designated_by_meeting=False
        ),
    )
    assert (result.verdict, result.rule_id) == (Verdict.NOT_ELIGIBLE, "below_1_billion")
    assert result.hint is not None and "区政府会议" in result.hint.zh
    assert result.facts == {"investment_wan": Decimal(80000)}


def test_tongzhou_designated_small_project_is_eligible() -> None:
    assert _check("tongzhou", investment_wan=5000, designated_by_meeting=True) == (
        Verdict.ELIGIBLE,
        "designated_by_district_meeting",
    )


def test_unknown_fact_that_could_change_the_answer_needs_review() -> None:
    result = evaluate_eligibility(
        load_scheme("tongzhou").eligibility,
        ProjectFacts(investment_wan=Decimal(80000), in_investment_library=True),
    )
    assert result.verdict is Verdict.NEEDS_REVIEW
    assert result.rule_id == "designated_by_district_meeting"
    assert result.missing_facts == ("designated_by_meeting",)


def test_sanyuan_city_key_project_is_eligible_unless_it_fails_policy() -> None:
    assert _check("sanyuan", meets_industry_policy=True, on_key_list="city") == (
        Verdict.ELIGIBLE,
        "key_project",
    )
    assert _check("sanyuan", meets_industry_policy=False, on_key_list="city") == (
        Verdict.NOT_ELIGIBLE,
        "fails_policy",
    )


def test_guangzhou_city_approval_is_eligible_and_district_approval_is_not() -> None:
    assert _check("guangzhou", on_key_list="none", funding="social", approval_level="city") == (
        Verdict.ELIGIBLE,
        "social_city_approval",
    )
    assert _check("guangzhou", on_key_list="none", funding="social", approval_level="district") == (
        Verdict.NOT_ELIGIBLE,
        "no_city_approval",
    )


def test_anshan_city_items_are_eligible_and_non_compliant_projects_are_not() -> None:
    assert _check("anshan", meets_industry_policy=True, approval_level="city") == (
        Verdict.ELIGIBLE,
        "city_level_items",
    )
    assert _check("anshan", meets_industry_policy=False, approval_level="city") == (
        Verdict.NOT_ELIGIBLE,
        "fails_industry_policy",
    )


def test_jinniu_key_projects_are_eligible_and_others_get_the_fallback() -> None:
    assert _check("jinniu", on_key_list="district") == (Verdict.ELIGIBLE, "key_project_plan")
    result = evaluate_eligibility(
        load_scheme("jinniu").eligibility,
        ProjectFacts(on_key_list="none", major_investment_attraction=False),
    )
    assert (result.verdict, result.rule_id) == (Verdict.NOT_ELIGIBLE, "not_key_project")
    assert result.facts == {"on_key_list": "none", "major_investment_attraction": False}
    assert _check("jinniu", on_key_list="none") == (
        Verdict.NEEDS_REVIEW,
        "major_investment_attraction",
    )


# --- broken copies fail with file:line ---------------------------------------------------


def _broken_copy(tmp_path: Path, old: str, new: str, preset: str = "tongzhou") -> str:
    text = (DEFAULT_SCHEMES_DIR / f"{preset}.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{preset}.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SchemeError) as caught:
        load_scheme(str(path))
    return str(caught.value)


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_unknown_key_names_the_key_its_line_and_a_suggestion(tmp_path: Path) -> None:
    message = _broken_copy(tmp_path, "  before_due_workdays: 2", "  before_due_workday: 2")
    line = _line_of(tmp_path / "tongzhou.yaml", "before_due_workday:")
    assert f"tongzhou.yaml:{line}: reminders.before_due_workday: unknown key" in message
    assert "did you mean 'before_due_workdays'" in message


def test_unknown_department_reference_points_at_the_item(tmp_path: Path) -> None:
    message = _broken_copy(
        tmp_path, "    department: ecology_environment", "    department: ecology_envirnoment"
    )
    line = _line_of(tmp_path / "tongzhou.yaml", "department: ecology_envirnoment")
    assert re.search(
        rf"tongzhou\.yaml:{line}: checklist\[\d+\]\.department: unknown department "
        r"'ecology_envirnoment' \(known: housing_construction, ",
        message,
    )


def test_prerequisite_cycle_is_reported_with_its_path(tmp_path: Path) -> None:
    message = _broken_copy(
        tmp_path,
        "    prerequisites: [construction_planning_permit]\n",
        "    prerequisites: [construction_planning_permit, construction_permit]\n",
    )
    assert "prerequisite cycle: " in message
    assert re.search(r"tongzhou\.yaml:\d+: checklist\[\d+\]\.prerequisites\[1\]", message)
    assert "drawing_review -> construction_permit -> drawing_review" in message


def test_yaml_syntax_error_gives_file_and_line(tmp_path: Path) -> None:
    message = _broken_copy(tmp_path, '  nudge_time: "09:30"', '  nudge_time: ["09:30"')
    assert re.match(r".*tongzhou\.yaml:\d+: YAML syntax error", message)


def test_missing_chinese_label_is_named(tmp_path: Path) -> None:
    message = _broken_copy(
        tmp_path,
        "service_name: {zh: 重大项目全程代办, en:",
        "service_name: {en:",
    )
    line = _line_of(tmp_path / "tongzhou.yaml", "service_name:")
    assert (
        f"tongzhou.yaml:{line}: service_name.zh: missing required key 'zh' (the Chinese text)"
        in (message)
    )


def test_unquoted_clock_time_is_explained(tmp_path: Path) -> None:
    message = _broken_copy(tmp_path, 'end: "18:00"', "end: 18:00")
    assert "reminders.working_hours.end" in message and 'quoted "HH:MM"' in message


def test_prerequisite_in_a_later_stage_is_rejected(tmp_path: Path) -> None:
    message = _broken_copy(
        tmp_path,
        "    prerequisites: [land_pre_review]\n",
        "    prerequisites: [land_pre_review, completion_filing]\n",
    )
    assert (
        "prerequisite 'completion_filing' is in the later stage 'completion_acceptance'" in message
    )


def test_unknown_preset_name_lists_the_presets() -> None:
    with pytest.raises(SchemeError, match="unknown scheme 'atlantis' \\(presets: anshan, "):
        load_scheme("atlantis")


def test_search_dir_override(tmp_path: Path) -> None:
    text = (DEFAULT_SCHEMES_DIR / "jinniu.yaml").read_text(encoding="utf-8")
    (tmp_path / "chengdu.yaml").write_text(text, encoding="utf-8")
    assert list_presets(tmp_path) == ["chengdu"]
    assert load_scheme("chengdu", search_dir=tmp_path).id == "jinniu"


# --- summary -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_summary_fits_one_screen_and_counts_assumed_values(scheme: Scheme, lang: str) -> None:
    text = summarize(scheme, lang)
    assert len(text.splitlines()) <= 30
    assert scheme.name.text(lang) in text
    word = "假定值" if lang == "zh" else "Assumed values"
    assert f"{word}：{count_assumed(scheme)}" in text or f"{word}: {count_assumed(scheme)}" in text
