"""Calendar-month arithmetic for notice periods (3.8: "three months' notice").

A notice period of *n* months served on a date ends on the same day of the month *n* calendar months later;
where that month is shorter, it ends on the month's last day (30 November + 3 months = 28 February, or
29 February in a leap year). This is the convention of ``dateutil.relativedelta``, which the tests use as the
trusted reference; it is written out here so the library needs no runtime dependency for it.

Rule conditions cannot do date arithmetic: a rule set's ``assemble`` step calls these functions.
"""

from __future__ import annotations

import datetime as dt


def days_in_month(year: int, month: int) -> int:
    """The number of days in ``month`` of ``year`` (28 to 31)."""
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.timedelta(days=1)).day


def latest_start(end: dt.date, months: int) -> dt.date:
    """The latest date ``d`` with ``add_months(d, months) <= end``: the last day a period of ``months`` can start
    and still end by ``end`` (with month-end clamping, a later day can end on the same date: notice served on
    30 November for three months ends on 28 February, as one served on 28 November does).

    Raises ``OverflowError`` when that date falls outside the representable dates.
    """
    day = add_months(end, -months)
    while day < dt.date.max and add_months(day + dt.timedelta(days=1), months) <= end:
        day += dt.timedelta(days=1)
    return day


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` plus ``months`` calendar months, clamped to the last day of the resulting month.

    Raises ``OverflowError`` when the result would fall outside the dates Python can represent (year 1 to 9999).
    """
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise OverflowError(f"{start.isoformat()} plus {months} months is outside the representable dates")
    month = month0 + 1
    return dt.date(year, month, min(start.day, days_in_month(year, month)))
