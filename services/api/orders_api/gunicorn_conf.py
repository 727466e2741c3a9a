"""gunicorn settings for the order API.

    gunicorn -c python:orders_api.gunicorn_conf orders_api.wsgi:app

gthread workers: a sync order holds its thread ~3 s while waiting for the process's payment slot
(PAYMENT_CONCURRENCY, default 1 like the original API), and the other threads keep answering
async orders meanwhile. The app is NOT preloaded: each worker imports `orders_api.wsgi` after the
fork, so boto3 sessions and clients are created once per worker process, never shared across a
fork and never per request.

This module reads only the server's own knobs (the service's settings live in flashsale.settings):
API_HOST (127.0.0.1), API_PORT (8080), API_WORKERS (2), API_THREADS (8), API_TIMEOUT (60),
API_ACCESS_LOG ("-" = stdout; empty disables it), API_LOG_LEVEL (info).
"""

import os

from orders_api import server_errors

# requests gunicorn's parser refuses (bad header bytes, request line) get the API's JSON errors
server_errors.install()

host = os.environ.get("API_HOST", "127.0.0.1")
bind = f"{host}:{int(os.environ.get('API_PORT', '8080'))}"
worker_class = "gthread"
workers = int(os.environ.get("API_WORKERS", "2"))
threads = int(os.environ.get("API_THREADS", "8"))
preload_app = False
timeout = int(os.environ.get("API_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("API_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("API_LOG_LEVEL", "info")
proc_name = "orders-api"
# gunicorn >= 25 opens a control socket in the home directory by default; the API needs none.
control_socket_disable = True
