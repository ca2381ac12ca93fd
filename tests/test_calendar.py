"""The working-day calendar, pinned against the State Council's 2026 schedule."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import (
    CalendarError,
    CalendarOverrides,
    DueDate,
    WorkCalendar,
    load_overrides,
    parse_overrides,
)

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "domain" / "data" / "holidays.example.yaml"

OVERRIDES_2027 = """\
years: [2027]
holidays:
  - 2027-01-01
  - {from: 2027-02-06, to: 2027-02-14, name: 春节}
workdays:
  - 2027-02-20
"""


def d(text: str) -> date:
    return date.fromisoformat(text)


def days(first: str, last: str) -> list[date]:
    start, end = d(first), d(last)
    return [start + timedelta(n) for n in range((end - start).days + 1)]


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture(scope="module")
def cal_2027() -> WorkCalendar:
    return WorkCalendar(parse_overrides(OVERRIDES_2027, source="2027.yaml"))


# 国务院办公厅关于2026年部分节假日安排的通知
DAYS_OFF_2026 = [
    *days("2026-01-01", "2026-01-03"),  # 元旦
    *days("2026-02-15", "2026-02-23"),  # 春节
    *days("2026-04-04", "2026-04-06"),  # 清明
    *days("2026-05-01", "2026-05-05"),  # 劳动节
    *days("2026-06-19", "2026-06-21"),  # 端午
    *days("2026-09-25", "2026-09-27"),  # 中秋
    *days("2026-10-01", "2026-10-07"),  # 国庆
]
MAKE_UP_WORKDAYS_2026 = [
    d(x)
    for x in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10")
]


@pytest.mark.parametrize("day", DAYS_OFF_2026, ids=str)
def test_2026_holiday_is_a_day_off(cal: WorkCalendar, day: date) -> None:
    assert not cal.is_workday(day)


@pytest.mark.parametrize("day", MAKE_UP_WORKDAYS_2026, ids=str)
def test_2026_make_up_weekend_is_a_working_day(cal: WorkCalendar, day: date) -> None:
    assert day.weekday() >= 5
    assert cal.is_workday(day)


def test_2026_has_248_working_days(cal: WorkCalendar) -> None:
    # 261 weekdays - 19 weekday holidays + 6 make-up weekends
    assert cal.workdays_between(d("2025-12-31"), d("2026-12-31")) == 248


def test_ordinary_days_follow_the_week(cal: WorkCalendar) -> None:
    assert cal.is_workday(d("2026-03-11"))  # Wednesday
    assert not cal.is_workday(d("2026-03-14"))  # Saturday


def test_add_workdays_across_the_spring_festival(cal: WorkCalendar) -> None:
    friday = d("2026-02-13")
    assert cal.add_workdays(friday, 1) == d("2026-02-14")  # 调休 Saturday
    assert cal.add_workdays(friday, 2) == d("2026-02-24")
    assert cal.workdays_between(friday, d("2026-02-24")) == 2


def test_add_workdays_across_national_day(cal: WorkCalendar) -> None:
    wednesday = d("2026-09-30")
    assert cal.add_workdays(wednesday, 1) == d("2026-10-08")
    assert cal.add_workdays(wednesday, 3) == d("2026-10-10")  # 调休 Saturday
    assert cal.add_workdays(d("2026-09-18"), 1) == d("2026-09-20")  # Fri -> 调休 Sun
    assert cal.add_workdays(d("2026-09-24"), 1) == d("2026-09-28")  # 中秋 in between


def test_counting_from_a_day_off_starts_the_next_day(cal: WorkCalendar) -> None:
    assert cal.add_workdays(d("2026-03-08"), 1) == d("2026-03-09")  # accepted Sunday
    assert cal.add_workdays(d("2026-10-03"), 1) == d("2026-10-08")  # accepted in 国庆
    assert cal.add_workdays(d("2026-02-15"), 5) == d("2026-02-28")


def test_the_start_day_never_counts_even_when_it_is_a_working_day(cal: WorkCalendar) -> None:
    assert cal.add_workdays(d("2026-01-04"), 1) == d("2026-01-05")  # 调休 Sunday
    assert cal.add_workdays(d("2026-03-09"), 5) == d("2026-03-16")


def test_zero_workdays_is_the_start_day(cal: WorkCalendar) -> None:
    assert cal.add_workdays(d("2026-02-15"), 0) == d("2026-02-15")


def test_negative_n_counts_working_days_strictly_before(cal: WorkCalendar) -> None:
    assert cal.add_workdays(d("2026-02-24"), -1) == d("2026-02-14")
    assert cal.add_workdays(d("2026-02-24"), -2) == d("2026-02-13")
    assert cal.add_workdays(d("2026-03-08"), -1) == d("2026-03-06")  # Sunday -> Friday
    assert cal.workdays_between(d("2026-02-24"), d("2026-02-13")) == -2


def test_next_workday(cal: WorkCalendar) -> None:
    assert cal.next_workday(d("2026-02-15")) == d("2026-02-24")
    assert cal.next_workday(d("2026-02-14")) == d("2026-02-14")
    assert cal.next_workday(d("2026-02-14"), include_today=False) == d("2026-02-24")


def test_known_years_are_the_package_years(cal: WorkCalendar) -> None:
    assert set(range(2004, 2027)) <= cal.known_years
    assert cal.is_known(d("2026-12-31"))
    assert cal.is_provisional(d("2027-01-01"))
    assert cal.is_provisional(d("2003-06-01"))


@pytest.mark.parametrize("day", [date.min, d("1990-05-01"), d("2027-01-01"), date.max])
def test_unknown_years_count_monday_to_friday_without_raising(cal: WorkCalendar, day: date) -> None:
    assert cal.is_workday(day) == (day.weekday() < 5)


def test_70_workdays_from_late_2026_end_in_2027_and_are_provisional(cal: WorkCalendar) -> None:
    # 28 working days left in 2026, then 42 Monday–Friday days in 2027.
    assert cal.due_date(d("2026-11-23"), 70) == DueDate(d("2027-03-01"), provisional=True)


def test_an_override_for_2027_makes_the_same_deadline_official_and_later(
    cal_2027: WorkCalendar,
) -> None:
    # Jan 1 and Feb 8-12 are off, Sat Feb 20 is worked: five days later.
    assert cal_2027.due_date(d("2026-11-23"), 70) == DueDate(d("2027-03-08"), provisional=False)
    assert cal_2027.is_known(d("2027-06-01"))
    assert not cal_2027.is_workday(d("2027-01-01"))
    assert cal_2027.is_workday(d("2027-02-20"))


def test_due_date_is_provisional_only_if_counted_days_are(cal: WorkCalendar) -> None:
    assert cal.due_date(d("2026-12-30"), 1) == DueDate(d("2026-12-31"), provisional=False)
    assert cal.due_date(d("2026-12-31"), 1) == DueDate(d("2027-01-01"), provisional=True)
    assert cal.due_date(d("2027-01-05"), -2) == DueDate(d("2027-01-01"), provisional=True)
    assert cal.due_date(d("2027-01-01"), -1) == DueDate(d("2026-12-31"), provisional=False)


def test_local_holiday_inside_a_known_year() -> None:
    cal = WorkCalendar(parse_overrides("holidays:\n  - {date: 2026-07-15, name: 本地纪念日}\n"))
    assert not cal.is_workday(d("2026-07-15"))
    assert cal.add_workdays(d("2026-07-14"), 1) == d("2026-07-16")
    assert cal.due_date(d("2026-07-14"), 1) == DueDate(d("2026-07-16"), provisional=False)
    assert cal.is_workday(d("2026-02-14"))  # the package's schedule still applies


def test_overrides_win_over_the_package_day_by_day() -> None:
    cal = WorkCalendar(parse_overrides("holidays: [2026-02-14]\nworkdays: [2026-10-07]\n"))
    assert not cal.is_workday(d("2026-02-14"))
    assert cal.is_workday(d("2026-10-07"))
    assert cal.add_workdays(d("2026-02-13"), 1) == d("2026-02-24")


def test_the_example_file_parses() -> None:
    overrides = load_overrides(EXAMPLE_FILE)
    assert overrides.years == frozenset({2027})
    assert d("2027-02-10") in overrides.holidays
    assert overrides.names[d("2027-02-10")] == "春节"
    assert overrides.workdays == frozenset({d("2027-02-20")})


def test_an_empty_file_overrides_nothing() -> None:
    assert parse_overrides("") == CalendarOverrides()
    assert parse_overrides("# nothing yet\n") == CalendarOverrides()


def test_a_malformed_file_names_the_file_and_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text("holidays:\n  - 2027-01-01\n  - 2027-02-30\n", encoding="utf-8")
    with pytest.raises(CalendarError) as caught:
        load_overrides(path)
    message = str(caught.value)
    assert str(path) in message
    assert "holidays[1]" in message
    assert "2027-02-30" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("holidays: [2027-13-01]", "holidays[0]"),
        ("holidays: [tomorrow]", "'tomorrow'"),
        ("workdays:\n  - {from: 2027-02-14, to: 2027-02-06}", "'to' is before 'from'"),
        ("holidays:\n  - {from: 2027-01-01, to: 2028-06-01}", "typo"),
        ("holidays:\n  - {start: 2027-01-01}", "holidays[0]"),
        ("holidays:\n  - {date: 2027-01-01, name: 3}", "'name' must be text"),
        ("years: [twenty]", "years[0]"),
        ("years: 2027", "years"),
        ("holiday: [2027-01-01]", "unknown key(s) holiday"),
        ("holidays: [2027-02-20]\nworkdays: [2027-02-20]", "both as a holiday and as a workday"),
        ("- 2027-01-01", "expected a mapping"),
        ("holidays: [2027-01-01", "not valid YAML"),
    ],
)
def test_malformed_overrides_raise_calendar_error(text: str, expected: str) -> None:
    with pytest.raises(CalendarError) as caught:
        parse_overrides(text, source="local.yaml")
    assert str(caught.value).startswith("local.yaml: ")
    assert expected in str(caught.value)


def test_a_missing_file_raises_calendar_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match=r"missing\.yaml"):
        load_overrides(tmp_path / "missing.yaml")


def naive_between(cal: WorkCalendar, start: date, end: date) -> int:
    return sum(cal.is_workday(start + timedelta(n)) for n in range(1, (end - start).days + 1))


@pytest.mark.parametrize("which", ["package", "with 2027 overrides"])
def test_ten_year_spans_agree_with_a_day_by_day_count(
    cal: WorkCalendar, cal_2027: WorkCalendar, which: str
) -> None:
    calendar = cal if which == "package" else cal_2027
    start = d("2018-03-03")
    for end in (d("2028-03-03"), d("2027-12-31"), d("2026-02-14"), d("2030-01-01")):
        count = naive_between(calendar, start, end)
        assert calendar.workdays_between(start, end) == count
        assert calendar.workdays_between(end, start) == -count
        last = calendar.add_workdays(start, count)
        assert last <= end
        assert calendar.add_workdays(start, count + 1) > end


def test_counting_past_the_end_of_the_calendar_overflows(cal: WorkCalendar) -> None:
    with pytest.raises(OverflowError):
        cal.add_workdays(d("9999-12-30"), 5)
    with pytest.raises(OverflowError):
        cal.add_workdays(d("0001-01-02"), -5)


# Property tests: both calendars, dates spanning known and unknown years.
dates = st.dates(min_value=d("2000-01-01"), max_value=d("2032-12-31"))
counts = st.integers(min_value=-400, max_value=400)
calendars = st.sampled_from([WorkCalendar(), WorkCalendar(parse_overrides(OVERRIDES_2027))])


@given(calendars, dates, st.integers(min_value=0, max_value=400))
def test_workdays_between_inverts_add_workdays(cal: WorkCalendar, start: date, n: int) -> None:
    assert cal.workdays_between(start, cal.add_workdays(start, n)) == n


@given(calendars, dates, counts)
def test_backward_counting_lands_on_working_days(cal: WorkCalendar, start: date, n: int) -> None:
    due = cal.add_workdays(start, n)
    if n != 0:
        assert cal.is_workday(due)
    if n < 0:
        # |n| working days in [due, start): the start day itself is never counted.
        one = timedelta(days=1)
        assert cal.workdays_between(due - one, start - one) == -n
        if cal.is_workday(start):
            assert cal.workdays_between(start, due) == n
            assert cal.add_workdays(due, -n) == start


@given(calendars, dates, dates, counts)
def test_add_workdays_is_monotonic_in_the_start(
    cal: WorkCalendar, a: date, b: date, n: int
) -> None:
    a, b = min(a, b), max(a, b)
    assert cal.add_workdays(a, n) <= cal.add_workdays(b, n)
    assert cal.workdays_between(a, b) >= 0


@given(calendars, dates, counts, counts)
def test_add_workdays_is_strictly_monotonic_in_n(
    cal: WorkCalendar, start: date, n: int, m: int
) -> None:
    if n < m:
        assert cal.add_workdays(start, n) < cal.add_workdays(start, m)


@given(calendars, dates, dates)
def test_workdays_between_is_antisymmetric(cal: WorkCalendar, a: date, b: date) -> None:
    assert cal.workdays_between(a, b) == -cal.workdays_between(b, a)
