"""The acceptance benchmark's yardstick: a bare Flask JSON endpoint, no AWS behind it.

It parses the order body and answers the async API's 202 shape, so the difference to the real
API is the work the API does to accept an order durably.
"""

from __future__ import annotations

import uuid

from flask import Flask, jsonify, request

app = Flask("bare")


@app.post("/orders/async")
def accept():
    body = request.get_json(silent=True) or {}
    order_id = str(uuid.uuid4())
    response = jsonify(
        {
            "message": "Order accepted for processing",
            "order_id": order_id,
            "status": "pending",
            "message_id": str(uuid.uuid4()),
            "items": len(body.get("items", [])),
        }
    )
    response.status_code = 202
    return response


@app.get("/health")
def health():
    return jsonify({"status": "healthy"})
