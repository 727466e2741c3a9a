"""Load shapes as pure functions of elapsed time, wrapped for locust in the scenario files."""

from __future__ import annotations

from dataclasses import dataclass

from flashsale_load.config import SpikeProfile


@dataclass(frozen=True)
class Stage:
    """Until `end_s` seconds into the run, hold `users`, reaching them at `spawn_rate` users/s."""

    end_s: float
    users: int
    spawn_rate: float


def spike_stages(profile: SpikeProfile) -> list[Stage]:
    """Quiet, a jump to the peak within `ramp_s`, hold, drop back, quiet; then the run ends."""
    jump = max(profile.peak_users - profile.base_users, 1)
    ramp_rate = jump / max(profile.ramp_s, 0.1)
    t_quiet = profile.quiet_s
    t_peak = t_quiet + profile.ramp_s + profile.hold_s
    t_end = t_peak + profile.cool_s
    start_rate = float(max(profile.base_users, 1))
    return [
        Stage(t_quiet, profile.base_users, start_rate),
        Stage(t_peak, profile.peak_users, ramp_rate),
        Stage(t_end, profile.base_users, ramp_rate),
    ]


def stage_at(stages: list[Stage], elapsed_s: float) -> tuple[int, float] | None:
    """What locust's `tick()` returns `elapsed_s` into the run: (users, spawn rate) or None."""
    for stage in stages:
        if elapsed_s < stage.end_s:
            return stage.users, stage.spawn_rate
    return None


def total_duration(stages: list[Stage]) -> float:
    return stages[-1].end_s if stages else 0.0
