"""The processor's tuning, derived from the shared Settings (plus command-line overrides)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from flashsale.settings import Settings

#: SQS limits: at most 10 messages per receive, long polls of at most 20 s.
MAX_BATCH = 10
MAX_WAIT_SECONDS = 20


@dataclass(frozen=True)
class ProcessorConfig:
    queue_name: str
    dlq_name: str
    queue_url: str | None = None
    dlq_url: str | None = None
    concurrency: int = 10
    #: Long-poll wait. Below SQS's 20 s maximum so a stop request is noticed within this time.
    wait_time_seconds: int = 10
    #: Visibility given on receive and renewed by the heartbeat: well above the payment time.
    visibility_timeout: int = 30
    heartbeat_interval: float = 10.0
    retry_backoff_base: float = 2.0
    retry_backoff_max: int = 300
    #: Log a one-line summary every this many handled messages.
    summary_every: int = 100
    #: How long a graceful stop waits for in-flight payments after polling has stopped.
    stop_timeout: float = 30.0
    payment_latency_seconds: float = 3.0
    payment_concurrency: int = 1

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ProcessorConfig:
        """Defaults from Settings; `overrides` with a None value are ignored."""
        latency = settings.payment_latency_seconds
        visibility = max(30, math.ceil(latency * 10))
        config = cls(
            queue_name=f"{settings.env_name}-order-queue",
            dlq_name=f"{settings.env_name}-order-dlq",
            queue_url=settings.order_queue_url,
            dlq_url=settings.order_dlq_url,
            concurrency=settings.processor_concurrency,
            visibility_timeout=visibility,
            heartbeat_interval=visibility / 3,
            stop_timeout=max(30.0, latency * 3),
            payment_latency_seconds=latency,
            payment_concurrency=settings.payment_concurrency,
        )
        given = {key: value for key, value in overrides.items() if value is not None}
        if "visibility_timeout" in given and "heartbeat_interval" not in given:
            given["heartbeat_interval"] = given["visibility_timeout"] / 3
        return replace(config, **given).validated()

    def validated(self) -> ProcessorConfig:
        if self.concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if not 0 <= self.wait_time_seconds <= MAX_WAIT_SECONDS:
            raise ValueError(f"wait time must be within 0..{MAX_WAIT_SECONDS} s")
        if self.heartbeat_interval <= 0 or self.heartbeat_interval >= self.visibility_timeout:
            raise ValueError("heartbeat interval must be positive and below the visibility timeout")
        if self.summary_every < 1:
            raise ValueError("summary_every must be >= 1")
        return self

    def backoff(self, receive_count: int) -> int:
        """Seconds a transiently failed message stays invisible: doubles per receive, capped."""
        exponent = max(receive_count, 1) - 1
        delay = self.retry_backoff_base * (2 ** min(exponent, 30))
        return int(min(self.retry_backoff_max, max(1, math.ceil(delay))))
