"""The admin key: who may change the catalog and read readiness details.

Outside the local environment the API refuses to start without a key of its own (fail closed):
the published local key, or none at all, would leave the admin endpoint open or disabled by
accident. The key is compared in constant time.
"""

from __future__ import annotations

import hmac

from flask import Request

from flashsale.settings import LOCAL_ADMIN_API_KEY, Settings
from orders_api.errors import ApiError

ADMIN_HEADER = "X-Admin-Key"
#: Shortest key accepted outside the local environment (a Secrets Manager generated key is 32+).
MIN_KEY_LENGTH = 16


class AdminKeyError(RuntimeError):
    """The API must not start with this admin key configuration."""


def check_admin_key(settings: Settings) -> None:
    """Raise AdminKeyError unless a non-local environment has a usable key of its own."""
    if settings.is_local:
        return
    key = settings.admin_api_key
    where = f"ENV_NAME={settings.env_name}"
    if not key:
        raise AdminKeyError(
            f"{where}: ADMIN_API_KEY is not set; outside 'local' it must come from Secrets "
            "Manager or an SSM SecureString (the api stack's AdminApiKeySecretArn)"
        )
    if hmac.compare_digest(key.encode(), LOCAL_ADMIN_API_KEY.encode()):
        raise AdminKeyError(f"{where}: ADMIN_API_KEY is the published local key")
    if len(key) < MIN_KEY_LENGTH:
        raise AdminKeyError(f"{where}: ADMIN_API_KEY is shorter than {MIN_KEY_LENGTH} characters")


def is_admin(request: Request, configured: str | None) -> bool:
    """Whether the request carries the configured key (False when no key is configured)."""
    given = request.headers.get(ADMIN_HEADER)
    if not configured or not given:
        return False
    return hmac.compare_digest(given.encode(), configured.encode())


def require_admin(request: Request, configured: str | None) -> None:
    """401 without the header, 403 with a wrong one or when admin updates are disabled."""
    if not configured:
        raise ApiError(403, "admin_disabled", "product updates are disabled: no admin key is set")
    if not request.headers.get(ADMIN_HEADER):
        raise ApiError(401, "admin_key_required", f"send the {ADMIN_HEADER} header", ADMIN_HEADER)
    if not is_admin(request, configured):
        raise ApiError(403, "admin_key_invalid", f"the {ADMIN_HEADER} is not valid", ADMIN_HEADER)
