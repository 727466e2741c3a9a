"""What a scenario reports: the audit's counts and the scenario's own checks."""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    """One scenario-specific expectation, e.g. "the API answered 503 while LocalStack was down"."""

    name: str
    ok: bool
    detail: str = ""


def all_of(name: str, done: Sized, wanted: Sized, note: str = "") -> Check:
    """A check that every one of `wanted` is `done`: "3/4" (+ a note) as its detail."""
    detail = f"{len(done)}/{len(wanted)}" + (f" {note}" if note else "")
    return Check(name, len(done) == len(wanted), detail)


@dataclass
class ScenarioResult:
    """One row of the audit table."""

    scenario: str
    accepted: int = 0
    completed: int = 0
    failed: int = 0
    in_dlq: int = 0
    max_charges: int = 0
    stock_ok: bool = False
    stuck: int = 0
    checks: list[Check] = field(default_factory=list)
    #: Set when the scenario itself broke (could not inject its fault, the stack was down...).
    error: str | None = None

    @property
    def accounted(self) -> bool:
        """Every accepted order completed, failed, or is dead-lettered (and so accounted for)."""
        return self.accepted == self.completed + self.failed + self.in_dlq

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and self.accounted
            and self.max_charges <= 1
            and self.stock_ok
            and self.stuck == 0
            and all(check.ok for check in self.checks)
        )

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "ERROR"
        return "PASS" if self.passed else "FAIL"
