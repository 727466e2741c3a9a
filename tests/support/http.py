"""What every bad request must get from the API: the status and a JSON error naming the field."""

from __future__ import annotations

from typing import Any

import requests


def json_error(response: requests.Response, status: int, field: str | None = None) -> Any:
    """Assert the answer is `status` with a JSON error (naming `field` when given); the error."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] and error["message"]
    if field is not None:
        assert error.get("field") == field, error
    return error
