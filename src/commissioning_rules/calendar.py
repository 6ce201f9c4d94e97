"""Calendar-month arithmetic for notice periods (3.8: "three months' notice").

A notice period of *n* months served on a date ends on the same day of the month *n* calendar months later;
where that month is shorter, it ends on the month's last day (30 November + 3 months = 28 February, or
29 February in a leap year). That is exactly ``dateutil.relativedelta``'s convention, so the library uses
python-dateutil (maintained, the de facto standard for calendar arithmetic in Python) rather than its own copy.

Rule conditions cannot do date arithmetic: a rule set's ``assemble`` step calls these functions.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools

from dateutil.relativedelta import relativedelta


def days_in_month(year: int, month: int) -> int:
    """The number of days in ``month`` of ``year`` (28 to 31)."""
    return calendar.monthrange(year, month)[1]


#: Distinct (date, months) pairs each function remembers: a batch's dates repeat (the same notice served, the
#: same agreement end), and dateutil's arithmetic costs more than the rest of a rule set's step.
_REMEMBERED = 4096


@functools.lru_cache(maxsize=_REMEMBERED)
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


@functools.lru_cache(maxsize=_REMEMBERED)
def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` plus ``months`` calendar months, clamped to the last day of the resulting month.

    Raises ``OverflowError`` when the result would fall outside the dates Python can represent (year 1 to 9999).
    """
    try:
        result: dt.date = start + relativedelta(months=months)
    except (ValueError, OverflowError):  # dateutil: "year 10000 is out of range"
        raise OverflowError(f"{start.isoformat()} plus {months} months is outside the representable dates") from None
    return result
