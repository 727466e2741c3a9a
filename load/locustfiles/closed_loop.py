"""Closed loop: every user places async orders back to back, no think time. The acceptance
benchmark steps the user count until p99 crosses its limit.

    locust -f load/locustfiles/closed_loop.py --headless -u 16 -r 16 -t 10s --phase async-ecs
"""

from flashsale_load.users import ClosedLoopUser


class Client(ClosedLoopUser):
    pass
