"""Working days as a kommun counts them: Sweden's holidays from the holidays
library, the de facto days off, the kommun's own, and the counting rules."""

import datetime as dt
import random
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from municipalities.models import WorkCalendar
from municipalities.promises import calendar_for, due_day
from municipalities.workdays import (
    CalendarUnavailable,
    WorkingDays,
    extra_days_parse,
    working_days,
)

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


def at(*args):
    return dt.datetime(*args, tzinfo=STOCKHOLM)


def test_christmas_2026_three_working_days_after_the_day_before_julafton():
    days = WorkingDays()
    # 24 julafton, 25 juldagen, 26 annandag (a Saturday), 27 Sunday.
    assert days.add(dt.date(2026, 12, 23), 3) == dt.date(2026, 12, 30)
    due = days.due(at(2026, 12, 23, 16, 45), 3)
    # 31 nyårsafton and 1 January off, then a weekend: broken on Monday 4th.
    assert due == at(2027, 1, 4)
    assert days.last_day(due) == dt.date(2026, 12, 30)


def test_a_kommun_that_works_on_julafton_counts_it():
    days = working_days(christmas_eve_off=False)
    assert days.add(dt.date(2026, 12, 23), 3) == dt.date(2026, 12, 29)
    assert days.is_working_day(dt.date(2026, 12, 24))
    assert not WorkingDays().is_working_day(dt.date(2026, 12, 24))


def test_public_holidays_and_de_facto_days_come_from_the_library():
    days = WorkingDays()
    for holiday in (
        dt.date(2026, 1, 6),  # trettondedag jul
        dt.date(2026, 4, 3),  # långfredagen
        dt.date(2026, 4, 6),  # annandag påsk
        dt.date(2026, 5, 14),  # Kristi himmelsfärd
        dt.date(2026, 6, 19),  # midsommarafton
        dt.date(2027, 6, 25),  # midsommarafton the next year
    ):
        assert not days.is_working_day(holiday), holiday
    assert days.is_working_day(dt.date(2026, 6, 18))
    assert working_days(midsummer_eve_off=False).is_working_day(dt.date(2026, 6, 19))


def test_the_kommuns_own_days_off():
    days = working_days(extra_days_off="2026-05-15 Klämdag\n\n2026-11-02")
    assert not days.is_working_day(dt.date(2026, 5, 15))
    assert not days.is_working_day(dt.date(2026, 11, 2))
    assert WorkingDays().is_working_day(dt.date(2026, 5, 15))


def test_taken_counts_the_days_after_receipt_up_to_the_answer():
    days = WorkingDays()
    friday = at(2026, 11, 27, 15, 0)
    assert days.taken(friday, at(2026, 11, 27, 23, 59)) == 0
    assert days.taken(friday, at(2026, 11, 28, 10, 0)) == 0  # Saturday
    assert days.taken(friday, at(2026, 11, 30, 8, 0)) == 1  # Monday
    # Kept exactly when it took at most the promise: before ``due``.
    due = days.due(friday, 1)
    assert due == at(2026, 12, 1)
    assert days.taken(friday, due - dt.timedelta(microseconds=1)) == 1
    assert days.taken(friday, due) == 2


def test_between_agrees_with_counting_day_by_day():
    days = WorkingDays()
    rng = random.Random(14)
    for _ in range(500):
        start = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(800))
        end = start + dt.timedelta(days=rng.randrange(-5, 90))
        by_day = sum(
            1
            for n in range(1, (end - start).days + 1)
            if days.is_working_day(start + dt.timedelta(days=n))
        )
        assert days.between(start, end) == by_day, (start, end)


def test_due_is_local_midnight_across_summer_time():
    # Received in summer time, due in winter time: midnight in Stockholm.
    due = WorkingDays().due(at(2026, 10, 23, 12, 0), 1)
    assert due == at(2026, 10, 27)
    assert due.utcoffset() == dt.timedelta(hours=1)


def test_a_promise_is_at_least_one_day():
    with pytest.raises(ValueError):
        WorkingDays().add(dt.date(2026, 1, 1), 0)


def test_a_year_the_calendar_cannot_give_is_a_clear_error():
    with pytest.raises(CalendarUnavailable, match="2000"):
        WorkingDays().is_working_day(dt.date(1999, 12, 31))


def test_bad_extra_days_are_named_by_line():
    with pytest.raises(ValidationError) as caught:
        extra_days_parse("2026-05-15 Klämdag\n2026-02-30\nmåndag\n1850-01-01")
    messages = caught.value.messages
    assert len(messages) == 3
    assert "2" in messages[0] and "2026-02-30" in messages[0]
    assert "måndag" in messages[1]


@pytest.mark.django_db
def test_a_kommuns_calendar_is_read_from_its_row():
    from tests.support.factories import kommun

    malmo = kommun("1280")
    assert not calendar_for(malmo.pk).is_working_day(dt.date(2026, 12, 24))
    WorkCalendar.objects.create(
        municipality=malmo, christmas_eve_off=False, extra_days_off="2026-12-28"
    )
    days = calendar_for(malmo.pk)
    assert days.is_working_day(dt.date(2026, 12, 24))
    assert not days.is_working_day(dt.date(2026, 12, 28))
    assert due_day(municipality_id=malmo.pk, due=at(2027, 1, 4)) == dt.date(
        2026, 12, 30
    )


@pytest.mark.django_db
def test_a_calendar_row_with_a_bad_line_is_refused_at_the_field():
    from tests.support.factories import kommun

    row = WorkCalendar(municipality=kommun("1280"), extra_days_off="31/12")
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert "extra_days_off" in caught.value.message_dict
