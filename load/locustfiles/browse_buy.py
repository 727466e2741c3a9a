"""Browse and buy: search (5), view a product (3), order (1), with 0.5-2 s think time.

locust -f load/locustfiles/browse_buy.py --headless -u 20 -r 5 -t 60s --phase async-lambda
"""

from flashsale_load.users import BrowseBuyUser


class Shopper(BrowseBuyUser):
    pass
