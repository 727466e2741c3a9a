"""Normal load: 5 customers ordering every 1-3 s (the seed's baseline).

locust -f load/locustfiles/normal.py --headless -u 5 -r 5 -t 60s --phase async-ecs
"""

from flashsale_load.users import NormalUser


class Customer(NormalUser):
    pass
