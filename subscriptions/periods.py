"""The calendar of a yearly subscription, as pure functions on Brussels dates.

An access runs one year from its activation date and renews itself for a year
at a time. Period ``k`` (k = 0, 1, 2, ...) starts on the k-th anniversary of
the activation date and ends the day before the next one. Anniversaries are
always counted from the activation date itself, never chained from the previous
period, so an access activated on 31 January keeps 31 January.

The anniversary of 29 February in a year without one is 1 March: the period
before it ends on 28 February, as a year counted in the usual legal way ends on
the last day of the month when its date does not exist.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")

# A cancellation must be received at the latest this many calendar days before
# the last day of a period to stop the subscription at the end of it.
CANCELLATION_NOTICE_DAYS = 45


@dataclass(frozen=True)
class Period:
    index: int
    start: date
    end: date

    @property
    def days(self):
        return (self.end - self.start).days + 1

    @property
    def last_day_to_cancel(self):
        return last_day_to_cancel(self.end)


def brussels_date(moment: datetime) -> date:
    """The calendar day in Brussels of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("A moment needs a time zone before it becomes a date.")
    return moment.astimezone(BRUSSELS).date()


def anniversary(activation: date, years: int) -> date:
    """The ``years``-th anniversary of ``activation``; 29 February becomes 1 March."""
    try:
        return activation.replace(year=activation.year + years)
    except ValueError:
        return date(activation.year + years, 3, 1)


def period(activation: date, index: int) -> Period:
    if index < 0:
        raise ValueError("Periods are counted from 0.")
    start = anniversary(activation, index)
    end = anniversary(activation, index + 1) - timedelta(days=1)
    return Period(index=index, start=start, end=end)


def period_on(activation: date, day: date) -> Period:
    """The period that holds ``day``; before activation, the first period."""
    if day <= activation:
        return period(activation, 0)
    index = day.year - activation.year
    if anniversary(activation, index) > day:
        index -= 1
    return period(activation, index)


def last_day_to_cancel(period_end: date) -> date:
    return period_end - timedelta(days=CANCELLATION_NOTICE_DAYS)


def cancellation_stop_date(activation: date, received_on: date) -> date:
    """The last day of the subscription for a cancellation received on a day.

    On time (on or before the last day to cancel): the end of the current
    period. Late: the end of the next one.
    """
    current = period_on(activation, received_on)
    if received_on <= current.last_day_to_cancel:
        return current.end
    return period(activation, current.index + 1).end


def periods_started_by(activation: date, day: date) -> list[Period]:
    """Every period that has begun on or before ``day``, in order."""
    if day < activation:
        return []
    return [
        period(activation, index)
        for index in range(period_on(activation, day).index + 1)
    ]
