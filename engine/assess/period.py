"""The assessment period ``FROM..TO``: two ISO dates, both days included, in UTC."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone


class PeriodError(ValueError):
    """The period text is not ``YYYY-MM-DD..YYYY-MM-DD`` with FROM not after TO."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def first_moment(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=timezone.utc)

    @property
    def last_moment(self) -> datetime:
        return datetime.combine(self.end, time.max, tzinfo=timezone.utc)

    def holds(self, moment: datetime) -> bool:
        return self.first_moment <= moment <= self.last_moment

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def slug(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


def parse_period(text: str) -> Period:
    """``2026-01-01..2026-12-31`` as a :class:`Period`; :class:`PeriodError` says what is wrong."""
    parts = str(text).split("..")
    if len(parts) != 2:
        raise PeriodError(f"period {text!r} must read FROM..TO with ISO dates, e.g. 2026-01-01..2026-12-31")
    days = []
    for name, part in zip(("FROM", "TO"), parts):
        try:
            days.append(date.fromisoformat(part.strip()))
        except ValueError:
            raise PeriodError(f"period {text!r}: {name} {part.strip()!r} is not a date (YYYY-MM-DD)") from None
    if days[0] > days[1]:
        raise PeriodError(f"period {text!r}: FROM {days[0]} is after TO {days[1]}")
    return Period(days[0], days[1])


def moment(text: object) -> datetime | None:
    """An ISO date-time from the ledger as an aware datetime (naive means UTC); None if unreadable."""
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
