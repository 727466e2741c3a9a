"""A WSGI module for the gunicorn test: the real app factory over the in-memory fakes.

gunicorn runs it with `--chdir` on this folder, which puts the folder on sys.path.
"""

from __future__ import annotations

from decimal import Decimal

from conftest import memory_world
from flashsale.domain.model import Product
from flashsale.settings import Settings
from orders_api import create_app

app = create_app(memory_world(Settings(), [Product(1, "Alpha", Decimal("2.50"), 100)]).deps())
