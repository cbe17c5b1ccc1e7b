"""Dated support tables the policy checks compare a spec against, and the date they use.

A version's support status depends on the day a spec is validated, so every check that
reads these tables compares against one "as of" date: the one passed in
(`platformgen validate --as-of`), else `PLATFORMGEN_AS_OF`, else today (UTC). Tests fix
it, so their findings never change with the calendar.

The tables are data with their source; update them when AWS publishes new dates (a new
Kubernetes version on EKS, a changed end of support), and bump TABLES_AS_OF.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass

AS_OF_ENV = "PLATFORMGEN_AS_OF"
TABLES_AS_OF = dt.date(2026, 11, 30)
"""The day the tables below were last checked against their sources."""

EKS_CALENDAR_SOURCE = "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html"


@dataclass(frozen=True)
class SupportWindow:
    """One version's support on a managed service (dates are UTC days)."""

    version: str
    released: dt.date
    standard_until: dt.date
    extended_until: dt.date

    def status(self, on: dt.date) -> str:
        """'standard' until end of standard support, then 'extended', then 'ended'."""
        if on < self.standard_until:
            return "standard"
        if on < self.extended_until:
            return "extended"
        return "ended"


def _window(version: str, released: str, standard: str, extended: str) -> SupportWindow:
    return SupportWindow(
        version,
        dt.date.fromisoformat(released),
        dt.date.fromisoformat(standard),
        dt.date.fromisoformat(extended),
    )


# The Amazon EKS Kubernetes release calendar (EKS_CALENDAR_SOURCE; 1.35 and the
# versions that left it since, as endoflife.date/amazon-eks records them). Standard
# support lasts 14 months from the EKS release, extended support 12 months more, billed
# per cluster hour; after it EKS upgrades the control plane by itself (not the nodes).
EKS_VERSIONS: dict[str, SupportWindow] = {
    w.version: w
    for w in (
        _window("1.25", "2023-02-21", "2024-05-01", "2025-05-01"),
        _window("1.26", "2023-04-11", "2024-06-11", "2025-06-11"),
        _window("1.27", "2023-05-24", "2024-07-24", "2025-07-24"),
        _window("1.28", "2023-09-26", "2024-11-26", "2025-11-26"),
        _window("1.29", "2024-01-23", "2025-03-23", "2026-03-23"),
        _window("1.30", "2024-05-23", "2025-07-23", "2026-07-23"),
        _window("1.31", "2024-09-26", "2025-11-26", "2026-11-26"),
        _window("1.32", "2025-01-23", "2026-03-23", "2027-03-23"),
        _window("1.33", "2025-05-29", "2026-07-29", "2027-07-29"),
        _window("1.34", "2025-10-02", "2026-12-02", "2027-12-02"),
        _window("1.35", "2026-01-28", "2027-03-27", "2028-03-27"),
    )
}


def newest_in_standard_support(on: dt.date) -> str | None:
    """The newest Kubernetes version of the table that is in standard support on `on`."""
    current = [w for w in EKS_VERSIONS.values() if w.released <= on < w.standard_until]
    return max(current, key=lambda w: w.released).version if current else None


class AsOfError(ValueError):
    """PLATFORMGEN_AS_OF holds something that is not a date."""


def parse_date(text: str) -> dt.date:
    """A YYYY-MM-DD date (ValueError for anything else)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD")
    return dt.date.fromisoformat(text.strip())


def as_of(given: dt.date | None = None) -> dt.date:
    """The day support is judged on: `given`, else PLATFORMGEN_AS_OF, else today (UTC)."""
    if given is not None:
        return given
    text = os.environ.get(AS_OF_ENV)
    if text:
        try:
            return parse_date(text)
        except ValueError as exc:
            raise AsOfError(f"{AS_OF_ENV}={text!r} is not a date in the form YYYY-MM-DD") from exc
    return dt.datetime.now(dt.UTC).date()
