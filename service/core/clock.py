"""The clock: today in Jiangmen, and moments written as UTC text the one way the API shows them."""

from datetime import UTC, date, datetime, timedelta, timezone

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")  # no daylight saving since 1991


def today() -> date:
    """Today's date in Jiangmen."""
    return datetime.now(CHINA_STANDARD_TIME).date()


def utc_text(moment: datetime) -> str:
    """A moment as ISO 8601 in UTC with a `Z` (microseconds kept when it has them)."""
    # SQLite gives stored times back without a zone: they were written in UTC
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
