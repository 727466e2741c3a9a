"""Spike: a few buyers, then a few hundred within seconds, hold, drop back, stop.

The profile comes from SPIKE_BASE_USERS (5), SPIKE_PEAK_USERS (300), SPIKE_QUIET_S (20),
SPIKE_RAMP_S (5), SPIKE_HOLD_S (30), SPIKE_COOL_S (15); the shape ends the run by itself.

    locust -f load/locustfiles/spike.py --headless --phase async-ecs
"""

from locust import LoadTestShape

from flashsale_load.config import SpikeProfile
from flashsale_load.users import FlashSaleUser


class Buyer(FlashSaleUser):
    pass


class Spike(LoadTestShape):
    profile = SpikeProfile.from_env()

    def tick(self) -> tuple[int, float] | None:
        return self.profile.at(self.get_run_time())
