"""The order API: a Flask app (served by gunicorn) over the flashsale service layer."""

from orders_api.app import create_app
from orders_api.deps import ApiDeps

__all__ = ["ApiDeps", "create_app"]
