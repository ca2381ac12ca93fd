"""FAQ matching (常见问题匹配) on the five presets' real phrasing, Chinese and English."""

from __future__ import annotations

import pytest

from domain.faq import FaqIndex, grams, match_faq
from domain.scheme_loader import load_scheme


@pytest.mark.parametrize(
    ("scheme", "question", "entry"),
    [
        ("tongzhou", "哪些项目可以申请全程代办？", "scope"),
        ("tongzhou", "我们项目不到10亿还能申请吗", "below_threshold"),
        ("tongzhou", "代办要收费吗", "fees"),
        ("tongzhou", "项目管家是做什么的", "butler"),
        ("tongzhou", "Does the service cost anything?", "fees"),
        ("tongzhou", "WHO IS THE BUTLER", "butler"),
        ("tongzhou", "一项目一册是什么", "plan_book"),
        ("guangzhou", "代办需要书面委托吗", "written_authorization"),
        ("guangzhou", "首席服务官是谁", "chief_service_officer"),
        ("sanyuan", "贵宾服务卡是什么", "service_card"),
        ("sanyuan", "材料不全怎么办", "missing_materials"),
        ("anshan", "12345热线", "hotline"),
        ("jinniu", "服务专员是谁", "specialist"),
    ],
)
def test_real_questions_find_their_answer(scheme: str, question: str, entry: str) -> None:
    result = FaqIndex(load_scheme(scheme).faq).match(question)
    assert result.best is not None and result.best.entry_id == entry


@pytest.mark.parametrize(
    "question",
    ["今天天气怎么样", "你好", "三明市某某机械制造有限公司", "asdf qwerty", "", "？？？", "😀😀"],
)
def test_unrelated_text_is_a_miss(question: str) -> None:
    for scheme in ("tongzhou", "sanyuan", "guangzhou"):
        assert match_faq(load_scheme(scheme).faq, question).best is None


def test_did_you_mean_offers_at_most_two_other_entries() -> None:
    result = FaqIndex(load_scheme("tongzhou").faq).match("哪些项目可以申请全程代办？")
    assert result.best is not None
    assert 1 <= len(result.also) <= 2
    assert result.best.entry_id not in {m.entry_id for m in result.also}
    assert all(m.score <= result.best.score for m in result.also)


def test_chinese_is_cut_into_ngrams_and_english_into_words() -> None:
    terms = grams("项目管家 Butler, the")
    assert {"项目", "管家", "目管", "项目管"} <= set(terms)
    assert "butler" in terms and "the" not in terms


def test_full_width_and_case_do_not_matter() -> None:
    index = FaqIndex(load_scheme("tongzhou").faq)
    assert index.match("ＢＵＴＬＥＲ").best == index.match("butler").best
