import calendar
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subscriptions.periods import (
    anniversary,
    brussels_date,
    cancellation_stop_date,
    last_day_to_cancel,
    period,
    period_on,
    periods_started_by,
)

activation_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
indexes = st.integers(min_value=0, max_value=30)


def holds_29_february(start, end):
    return any(
        start <= date(year, 2, 29) <= end
        for year in range(start.year, end.year + 1)
        if calendar.isleap(year)
    )


class TestWorkedExamples:
    """The tables of the domain description, value for value."""

    def test_it_runs_an_access_activated_on_1_january_2026_by_calendar_years(self):
        first = period(date(2026, 1, 1), 0)
        second = period(date(2026, 1, 1), 1)

        assert (first.start, first.end) == (date(2026, 1, 1), date(2026, 12, 31))
        assert first.days == 365
        assert first.last_day_to_cancel == date(2026, 11, 16)
        assert (second.start, second.end) == (date(2027, 1, 1), date(2027, 12, 31))

    def test_it_gives_an_access_activated_on_1_march_2027_a_leap_first_year(self):
        first = period(date(2027, 3, 1), 0)
        second = period(date(2027, 3, 1), 1)

        assert (first.start, first.end) == (date(2027, 3, 1), date(2028, 2, 29))
        assert first.days == 366
        assert first.last_day_to_cancel == date(2028, 1, 15)
        assert (second.start, second.end) == (date(2028, 3, 1), date(2029, 2, 28))
        assert second.days == 365

    def test_it_ends_an_on_time_cancellation_with_the_current_period(self):
        stop = cancellation_stop_date(date(2026, 1, 1), date(2026, 11, 16))

        assert stop == date(2026, 12, 31)

    def test_it_ends_a_late_cancellation_with_the_next_period(self):
        stop = cancellation_stop_date(date(2026, 1, 1), date(2026, 11, 17))

        assert stop == date(2027, 12, 31)

    def test_it_treats_a_cancellation_on_activation_day_as_on_time(self):
        stop = cancellation_stop_date(date(2026, 1, 1), date(2026, 1, 1))

        assert stop == date(2026, 12, 31)

    def test_it_counts_a_late_cancellation_in_a_later_year_from_that_period(self):
        # In the third period (2028) the deadline is 16 November 2028.
        on_time = cancellation_stop_date(date(2026, 1, 1), date(2028, 11, 16))
        late = cancellation_stop_date(date(2026, 1, 1), date(2028, 11, 17))

        assert on_time == date(2028, 12, 31)
        assert late == date(2029, 12, 31)


class TestAnniversaries:
    def test_it_moves_the_anniversary_of_29_february_to_1_march(self):
        assert anniversary(date(2028, 2, 29), 1) == date(2029, 3, 1)
        assert anniversary(date(2028, 2, 29), 4) == date(2032, 2, 29)

    def test_it_ends_the_first_year_of_a_29_february_access_on_28_february(self):
        first = period(date(2028, 2, 29), 0)

        assert (first.start, first.end) == (date(2028, 2, 29), date(2029, 2, 28))
        assert first.days == 366

    def test_it_starts_later_years_of_a_29_february_access_on_1_march(self):
        activation = date(2028, 2, 29)

        assert period(activation, 1).start == date(2029, 3, 1)
        assert period(activation, 1).end == date(2030, 2, 28)
        # The year before the next leap day ends the day before 29 February.
        assert period(activation, 3).end == date(2032, 2, 28)
        assert period(activation, 4).start == date(2032, 2, 29)

    def test_it_keeps_31_january_as_the_anniversary(self):
        activation = date(2026, 1, 31)

        assert [period(activation, k).start for k in range(3)] == [
            date(2026, 1, 31),
            date(2027, 1, 31),
            date(2028, 1, 31),
        ]
        assert period(activation, 0).end == date(2027, 1, 30)

    def test_it_counts_anniversaries_from_activation_not_from_the_last_period(self):
        # Chained from the 1 March of 2029, the fourth anniversary would be
        # 1 March 2032; counted from activation it is 29 February 2032.
        activation = date(2028, 2, 29)

        assert period(activation, 4).start == date(2032, 2, 29)
        assert anniversary(period(activation, 3).start, 1) == date(2032, 3, 1)

    def test_it_refuses_a_negative_period_index(self):
        with pytest.raises(ValueError):
            period(date(2026, 1, 1), -1)


class TestPeriodOn:
    def test_it_finds_the_period_that_holds_a_day(self):
        activation = date(2026, 1, 31)

        assert period_on(activation, date(2027, 1, 30)).index == 0
        assert period_on(activation, date(2027, 1, 31)).index == 1

    def test_it_answers_the_first_period_before_activation(self):
        assert period_on(date(2026, 6, 1), date(2026, 1, 1)).index == 0

    def test_it_finds_the_period_around_a_missing_29_february(self):
        activation = date(2028, 2, 29)

        assert period_on(activation, date(2029, 2, 28)).index == 0
        assert period_on(activation, date(2029, 3, 1)).index == 1
        assert period_on(activation, date(2032, 2, 28)).index == 3
        assert period_on(activation, date(2032, 2, 29)).index == 4

    def test_it_lists_the_periods_begun_by_a_day(self):
        activation = date(2026, 1, 1)

        assert periods_started_by(activation, date(2025, 12, 31)) == []
        assert [p.index for p in periods_started_by(activation, date(2026, 1, 1))] == [
            0
        ]
        assert [p.start for p in periods_started_by(activation, date(2028, 1, 1))] == [
            date(2026, 1, 1),
            date(2027, 1, 1),
            date(2028, 1, 1),
        ]


class TestBrusselsDate:
    def test_it_dates_a_moment_after_midnight_in_brussels_in_winter(self):
        # 23:30 UTC is 00:30 the next day in Brussels (UTC+1).
        assert brussels_date(datetime(2026, 11, 16, 23, 30, tzinfo=UTC)) == date(
            2026, 11, 17
        )

    def test_it_dates_a_moment_before_midnight_in_brussels_in_winter(self):
        assert brussels_date(datetime(2026, 11, 16, 22, 59, tzinfo=UTC)) == date(
            2026, 11, 16
        )

    def test_it_dates_a_moment_after_midnight_in_brussels_in_summer(self):
        # 22:30 UTC is 00:30 the next day in Brussels (UTC+2).
        assert brussels_date(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == date(
            2026, 7, 1
        )

    def test_it_makes_a_cancellation_just_after_midnight_in_brussels_late(self):
        received = brussels_date(datetime(2026, 11, 16, 23, 30, tzinfo=UTC))

        assert cancellation_stop_date(date(2026, 1, 1), received) == date(2027, 12, 31)

    def test_it_refuses_a_moment_without_a_time_zone(self):
        with pytest.raises(ValueError):
            brussels_date(datetime(2026, 11, 16, 23, 30))


class TestProperties:
    @given(activation_dates, indexes)
    def test_it_makes_every_period_one_year_long(self, activation, index):
        each = period(activation, index)

        assert each.days in (365, 366)
        assert (each.days == 366) == holds_29_february(each.start, each.end)

    @given(activation_dates, indexes)
    def test_it_tiles_consecutive_periods_without_gap_or_overlap(
        self, activation, index
    ):
        assert period(activation, index + 1).start == period(
            activation, index
        ).end + timedelta(days=1)

    @given(activation_dates, indexes)
    def test_it_sets_the_deadline_45_days_before_the_period_ends(
        self, activation, index
    ):
        each = period(activation, index)

        assert (each.end - each.last_day_to_cancel).days == 45
        assert last_day_to_cancel(each.end) == each.last_day_to_cancel

    @given(activation_dates, st.integers(min_value=0, max_value=30 * 366))
    def test_it_finds_a_period_that_holds_the_day(self, activation, offset):
        day = activation + timedelta(days=offset)

        found = period_on(activation, day)

        assert found.start <= day <= found.end
        assert found == period(activation, found.index)

    @given(activation_dates, indexes)
    def test_it_starts_each_period_on_an_anniversary(self, activation, index):
        start = period(activation, index).start

        assert start.year == activation.year + index
        if (activation.month, activation.day) == (2, 29) and not calendar.isleap(
            start.year
        ):
            assert (start.month, start.day) == (3, 1)
        else:
            assert (start.month, start.day) == (activation.month, activation.day)

    @given(activation_dates, st.integers(min_value=0, max_value=20 * 366))
    def test_it_stops_a_cancellation_at_the_end_of_this_or_the_next_period(
        self, activation, offset
    ):
        received = activation + timedelta(days=offset)
        current = period_on(activation, received)

        stop = cancellation_stop_date(activation, received)

        if received <= current.end - timedelta(days=45):
            assert stop == current.end
        else:
            assert stop == period(activation, current.index + 1).end
