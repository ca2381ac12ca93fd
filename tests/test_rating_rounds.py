"""When a rating round is open: from the period's first working day's working hours on."""

from datetime import date, datetime, time

from domain.calendar import WorkCalendar
from domain.rating_rounds import open_round, period_start, rating_period
from domain.scheme import RatingCycle

NINE = time(9, 0)


def test_periods_by_cycle():
    day = date(2026, 11, 23)
    assert rating_period(RatingCycle.MONTHLY, day) == "2026-11"
    assert rating_period(RatingCycle.QUARTERLY, day) == "2026Q4"
    assert rating_period(RatingCycle.YEARLY, day) == "2026"
    assert period_start(RatingCycle.QUARTERLY, day) == date(2026, 10, 1)


def test_the_round_opens_on_the_first_working_day_at_working_hours():
    calendar = WorkCalendar()
    # 2026-11-01 is a Sunday: the November round opens on Monday the 2nd at 09:00.
    assert open_round(RatingCycle.MONTHLY, calendar, datetime(2026, 11, 1, 12), NINE) is None
    assert open_round(RatingCycle.MONTHLY, calendar, datetime(2026, 11, 2, 8, 59), NINE) is None
    assert open_round(RatingCycle.MONTHLY, calendar, datetime(2026, 11, 2, 9), NINE) == "2026-11"
    assert open_round(RatingCycle.MONTHLY, calendar, datetime(2026, 11, 30, 23), NINE) == "2026-11"
    # National Day week: the fourth quarter's round waits for the first working day.
    assert open_round(RatingCycle.QUARTERLY, calendar, datetime(2026, 10, 2, 10), NINE) is None
