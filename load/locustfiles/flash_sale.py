"""Flash sale: 20 customers ordering as fast as the page lets them (the seed's flash sale).

locust -f load/locustfiles/flash_sale.py --headless -u 20 -r 20 -t 60s --phase sync
"""

from flashsale_load.users import FlashSaleUser


class Buyer(FlashSaleUser):
    pass
