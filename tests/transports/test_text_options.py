"""Choices as `#n` options where a messenger has no buttons (WeChat text, WeCom app chats)."""

from bot.transports.text_pieces import NUMBER_HINT, with_options
from handlers.i18n import gettext

FORM_PAGE = (
    "**申请** (3/7)\n请选择材料：\n11. 施工许可申请表\n12. 工程规划许可证\n请按按钮或回复编号。"
)


def test_choices_the_text_numbers_are_not_listed_twice():
    labels = ["施工许可申请表", "☑ 工程规划许可证", "◀ 上一页", "完成"]
    out = with_options(FORM_PAGE, labels, "zh_CN")
    assert out.count("施工许可申请表") == 1
    assert out.count("工程规划许可证") == 1
    assert "#3 ◀ 上一页" in out and "#4 完成" in out
    assert not [line for line in out.splitlines() if line.startswith(("#1 ", "#2 "))]


def test_buttons_the_text_does_not_number_are_all_listed():
    out = with_options("是否确认办结？", ["确认", "还有问题"], "zh_CN")
    assert out.startswith("是否确认办结？\n\n#1 确认\n#2 还有问题\n")
    assert out.splitlines()[-1] == gettext("zh_CN", NUMBER_HINT)


def test_no_hint_when_every_button_is_numbered_in_the_text():
    text = "请选择：\n1. 甲\n2. 乙"
    assert with_options(text, ["甲", "乙"], "zh_CN") == text
