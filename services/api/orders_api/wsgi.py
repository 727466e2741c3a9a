"""The WSGI entrypoint: `gunicorn -c python:orders_api.gunicorn_conf orders_api.wsgi:app`.

Imported by each gunicorn worker after the fork (the app is not preloaded), so every worker
builds its own clients exactly once, and loads its price cache in the background.
"""

from __future__ import annotations

import logging
import threading

from flashsale.settings import Settings
from orders_api import tracing
from orders_api.admin import check_admin_key
from orders_api.app import create_app
from orders_api.wiring import build_deps

settings = Settings.from_env()
check_admin_key(settings)  # fail closed: no open or published admin key outside 'local'
logging.basicConfig(
    level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
)
recorder = tracing.default_recorder(settings) if settings.xray_enabled else None
deps = build_deps(settings, recorder)
app = create_app(deps)


def _warm_prices() -> None:
    """The catalog's prices, loaded while the worker starts rather than by its first orders."""
    try:
        deps.products.warm_prices()
    except Exception:  # the first orders load them then
        logging.getLogger(__name__).warning("price warm-up failed", exc_info=True)


threading.Thread(target=_warm_prices, name="price-warmup", daemon=True).start()
if recorder is not None:
    tracing.instrument(app, recorder)
