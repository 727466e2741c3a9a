"""The scenarios under load/locustfiles and the locust command line that runs one headless."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flashsale_load.config import LOAD_DIR
from flashsale_load.locust_stats import SUMMARY

LOCUSTFILES = LOAD_DIR / "locustfiles"
CSV_PREFIX = "locust"


@dataclass(frozen=True)
class Scenario:
    name: str
    locustfile: Path
    #: 0: a LoadTestShape drives users and duration (-u/-r/-t do not apply)
    users: int = 0
    spawn_rate: float = 0.0

    @property
    def shaped(self) -> bool:
        return not self.users


SCENARIOS: dict[str, Scenario] = {
    scn.name: scn
    for scn in (
        Scenario("normal", LOCUSTFILES / "normal.py", users=5, spawn_rate=5),
        Scenario("flash", LOCUSTFILES / "flash_sale.py", users=20, spawn_rate=20),
        Scenario("spike", LOCUSTFILES / "spike.py"),
        Scenario("browse", LOCUSTFILES / "browse_buy.py", users=20, spawn_rate=5),
        Scenario("closed", LOCUSTFILES / "closed_loop.py", users=8, spawn_rate=8),
    )
}


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}: one of {', '.join(SCENARIOS)}") from None


_DURATION = re.compile(r"^\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s?)?\s*$")


def seconds(run_time: str) -> int:
    """Locust's run-time syntax (`90`, `90s`, `1m30s`, `1h`) in seconds. (Not
    `locust.util.timespan`: importing locust monkey-patches the orchestrating process.)"""
    match = _DURATION.match(run_time)
    if not match or not any(match.groups()):
        raise ValueError(f"not a run time: {run_time!r} (e.g. 60s, 2m, 1m30s)")
    hours, minutes, secs = (int(group or 0) for group in match.groups())
    return hours * 3600 + minutes * 60 + secs


def run_dir(root: Path, label: str, now: datetime | None = None) -> Path:
    """`<root>/<YYYYmmdd-HHMMSS>-<label>/`, created."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    path = root / f"{stamp}-{label}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def locust_command(
    scn: Scenario,
    *,
    phase: str,
    host: str,
    out_dir: Path,
    run_time: str | None = None,
    users: int | None = None,
    spawn_rate: float | None = None,
    orders_log: Path | None = None,
    html: bool = True,
    extra: list[str] | None = None,
) -> list[str]:
    """The headless locust command writing CSV, JSON, its final figures (locust_stats.py) and
    an HTML report into `out_dir`."""
    argv = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(scn.locustfile),
        "--headless",
        "--host",
        host,
        "--phase",
        phase,
        "--csv",
        str(out_dir / CSV_PREFIX),
        "--json-file",
        str(out_dir / CSV_PREFIX),
        "--summary-file",
        str(out_dir / SUMMARY),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    if not scn.shaped:
        argv += [
            "-u",
            str(users or scn.users),
            "-r",
            f"{spawn_rate or scn.spawn_rate:g}",
            "-t",
            run_time or "60s",
        ]
    if html:
        argv += ["--html", str(out_dir / "report.html")]
    if orders_log is not None:
        argv += ["--orders-log", str(orders_log)]
    return argv + list(extra or [])
