"""X-Ray helpers that cost nothing when tracing is off (AWS_XRAY_SDK_ENABLED unset/false).

    tracing.configure(service="order-processor")       # once at start-up; patches botocore
    parent = TraceHeader.first([attribute, aws_header])  # the message's trace header, if any
    with tracing.segment("order-processor", parent=parent):  # continues the order's trace
        with tracing.subsegment("payment", order_id=oid):
            tracing.annotate(route="ecs")

One order is one trace: the API puts its trace header (`Root=...;Parent=...;Sampled=1`) on the
OrderPlaced message and each consumer opens its segment as a child of it. In Lambda, where the
SDK refuses segments (the service owns the invocation's), `join_lambda_traces` lets the same
`segment()` call emit a per-record segment in the order's trace; Powertools' Tracer keeps the
invocation's own subsegments.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from flashsale.domain.model import Charge
from flashsale.ports import PaymentGateway
from flashsale.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
AnnotationValue = str | int | float | bool

#: The (sub)segment of a payment, in every service.
PAYMENT_SUBSEGMENT = "payment-gateway"
LAMBDA_ORIGIN = "AWS::Lambda::Function"

_lock = threading.Lock()
_enabled: bool | None = None


# -- trace headers: pure, no SDK ------------------------------------------------------------

_ROOT = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")
_PARENT = re.compile(r"[0-9a-f]{16}")
_SAMPLED = {"1": True, "0": False, "?": None}
_NOOP_ROOT = "1-00000000-000000000000000000000000"  # the SDK's id for unsampled work


@dataclass(frozen=True)
class TraceHeader:
    """An X-Amzn-Trace-Id / AWSTraceHeader value: `Root=1-...;Parent=<16 hex>;Sampled=1`."""

    root: str
    parent: str | None = None
    sampled: bool | None = None

    @classmethod
    def parse(cls, raw: str | None) -> TraceHeader | None:
        """The header in `raw`, or None when it is missing or garbled (never raises)."""
        if not isinstance(raw, str) or not raw.strip():
            return None
        fields: dict[str, str] = {}
        for part in raw.split(";"):
            key, sep, value = part.partition("=")
            if not sep:
                if part.strip():
                    return None
                continue
            fields[key.strip().lower()] = value.strip()
        root, parent = fields.get("root", ""), fields.get("parent")
        if not _ROOT.fullmatch(root):
            return None
        if parent is not None and not _PARENT.fullmatch(parent):
            return None
        sampled = fields.get("sampled")
        if sampled is not None and sampled not in _SAMPLED:
            return None
        return cls(root, parent, _SAMPLED.get(sampled) if sampled is not None else None)

    @classmethod
    def first(cls, candidates: Iterable[str | None]) -> TraceHeader | None:
        """The first valid header among `candidates` (e.g. AWSTraceHeader, then ours)."""
        for raw in candidates:
            header = cls.parse(raw)
            if header is not None:
                return header
        return None

    def format(self) -> str:
        parts = [f"Root={self.root}"]
        if self.parent:
            parts.append(f"Parent={self.parent}")
        if self.sampled is not None:
            parts.append(f"Sampled={int(self.sampled)}")
        return ";".join(parts)

    def __str__(self) -> str:
        return self.format()


def header_of(entity: Any) -> TraceHeader | None:
    """The header a downstream hop needs to continue the trace as a child of `entity`.

    An unsampled entity yields `Sampled=0` (the downstream hop must not sample either).
    """
    if entity is None:
        return None
    if not getattr(entity, "sampled", False):
        root = getattr(entity, "trace_id", None) or ""
        return TraceHeader(root if _ROOT.fullmatch(root) else _NOOP_ROOT, sampled=False)
    return TraceHeader(entity.trace_id, entity.id, True)


# -- set-up ---------------------------------------------------------------------------------


def _recorder() -> Any:
    from aws_xray_sdk.core import xray_recorder

    return xray_recorder


def enabled() -> bool:
    global _enabled
    if _enabled is None:
        _enabled = Settings.from_env().xray_enabled
    return _enabled


LOCAL_SAMPLING_RULES: dict[str, Any] = {
    "version": 2,
    "rules": [],
    "default": {"fixed_target": 1, "rate": 1.0},
}


def configure(
    settings: Settings | None = None, service: str | None = None, patch: bool = True
) -> bool:
    """Set up the X-Ray recorder if tracing is enabled; returns whether it is.

    Only AWS calls made inside a segment are traced: a poll loop or a sender thread outside
    any segment calls AWS untraced and silently (no "No segment found" warnings).
    """
    global _enabled
    settings = settings or Settings.from_env()
    with _lock:
        _enabled = settings.xray_enabled
        if not _enabled:
            return False
        recorder = _recorder()
        options: dict[str, Any] = {
            "service": service or settings.service_name,
            # code running outside any segment (a worker thread) must neither crash nor log
            "context_missing": "IGNORE_ERROR",
        }
        if settings.xray_daemon_address:
            options["daemon_address"] = settings.xray_daemon_address
        if settings.is_local:
            # until the first centralized rules arrive from the daemon, sample every request
            # like the local daemon's rule does (on AWS the SDK's default fallback applies)
            options["sampling_rules"] = LOCAL_SAMPLING_RULES
        recorder.configure(**options)
        if patch:
            patch_botocore()
    return True


_patched = False


def patch_botocore() -> None:
    """The SDK's botocore patch, behind a guard: outside any segment a call is not traced."""
    global _patched
    if _patched:
        return
    import wrapt  # installed with aws-xray-sdk, which patches through it too
    from aws_xray_sdk.core import patch as xray_patch

    xray_patch(["botocore"])
    wrapt.wrap_function_wrapper("botocore.client", "BaseClient._make_api_call", _in_segment_only)
    _patched = True


def _in_segment_only(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    # `wrapped` is the SDK's tracing wrapper; its __wrapped__ the plain botocore method.
    if _recorder().get_trace_entity() is None:
        return wrapped.__wrapped__(*args, **kwargs)
    return wrapped(*args, **kwargs)


def join_lambda_traces(active: bool) -> bool:
    """In Lambda: let `segment()` emit per-record segments joining each order's trace.

    `active` is whether the function traces at all (Powertools: `not tracer.disabled`); the SDK
    switch (AWS_XRAY_SDK_ENABLED) is honoured too. Returns whether tracing is on.
    """
    global _enabled
    from aws_xray_sdk import global_sdk_config
    from aws_xray_sdk.core.lambda_launcher import LambdaContext

    with _lock:
        _enabled = bool(active) and global_sdk_config.sdk_enabled()
        recorder = _recorder()
        if _enabled and type(recorder.context) is LambdaContext:
            recorder.context = _joining_lambda_context()
    return _enabled


def _joining_lambda_context() -> Any:
    from aws_xray_sdk.core.lambda_launcher import LambdaContext

    class JoiningLambdaContext(LambdaContext):
        """Lambda's context, plus a segment of our own per thread while one is open.

        The invocation's facade segment and its entities stay underneath, untouched: once the
        joined segment is sent, the thread is back in the invocation (e.g. `## lambda_handler`).
        """

        def _joined(self) -> list[Any] | None:
            return getattr(self._local, "joined", None)

        def put_segment(self, segment: Any) -> None:
            self._local.joined = [segment]

        def end_segment(self, end_time: float | None = None) -> None:
            joined = self._joined()
            if not joined:
                return super().end_segment(end_time)
            joined[0].close(end_time)
            return None

        def put_subsegment(self, subsegment: Any) -> None:
            joined = self._joined()
            if not joined:
                return super().put_subsegment(subsegment)
            joined[-1].add_subsegment(subsegment)
            joined.append(subsegment)
            return None

        def end_subsegment(self, end_time: float | None = None) -> bool:
            joined = self._joined()
            if not joined:
                return super().end_subsegment(end_time)
            if len(joined) < 2:
                return False
            joined[-1].close(end_time)
            joined.pop()
            return True

        def get_trace_entity(self) -> Any:
            joined = self._joined()
            return joined[-1] if joined else super().get_trace_entity()

        def clear_trace_entities(self) -> None:
            if self._joined():
                self._local.joined = None
            else:
                super().clear_trace_entities()

    return JoiningLambdaContext()


# -- recording ------------------------------------------------------------------------------


@contextmanager
def segment(
    name: str,
    parent: TraceHeader | None = None,
    origin: str | None = None,
    **annotations: AnnotationValue,
) -> Iterator[Any]:
    """A top-level segment for one unit of work; no-op when disabled.

    With `parent` (the upstream hop's header) it continues that trace as the parent's child and
    keeps its sampling decision; without, it starts a trace of its own.
    """
    if not enabled():
        yield None
        return
    recorder = _recorder()
    kwargs: dict[str, Any] = {}
    if parent is not None:
        kwargs = {"traceid": parent.root, "parent_id": parent.parent}
        if parent.sampled is not None:
            kwargs["sampling"] = 1 if parent.sampled else 0
    seg = recorder.begin_segment(name, **kwargs)
    if origin and getattr(seg, "sampled", False):
        seg.origin = origin
    with _recording(seg, annotations, recorder.end_segment):
        yield seg


@contextmanager
def subsegment(name: str, **annotations: AnnotationValue) -> Iterator[Any]:
    """A subsegment of the current segment; no-op when disabled or outside any segment."""
    if not enabled():
        yield None
        return
    recorder = _recorder()
    if recorder.get_trace_entity() is None:  # no active segment: nothing to attach to
        yield None
        return
    sub = recorder.begin_subsegment(name)
    if sub is None:
        yield None
        return
    with _recording(sub, annotations, recorder.end_subsegment):
        yield sub


@contextmanager
def _recording(
    entity: Any, annotations: dict[str, AnnotationValue], end: Callable[[], None]
) -> Iterator[None]:
    """Annotate the (sub)segment, record an exception escaping the block on it, then `end` it."""
    try:
        _annotate(entity, annotations)
        yield
    except Exception as exc:
        entity.add_exception(exc, _stack())
        raise
    finally:
        end()


def annotate(**annotations: AnnotationValue) -> None:
    """Add annotations (indexed, searchable) to the current (sub)segment, if any."""
    if not enabled():
        return
    entity = _recorder().get_trace_entity()
    if entity is not None:
        _annotate(entity, annotations)


def capture(name: str | None = None) -> Callable[[F], F]:
    """Decorator: run the function inside a subsegment named `name` (default: its name)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with subsegment(name or func.__name__):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


class TracedGateway:
    """A PaymentGateway that records each charge as a subsegment of the current segment.

    With an explicit `recorder` (the API's), that recorder is used; otherwise the module's
    switch decides, so wrapping costs nothing when tracing is off.
    """

    def __init__(self, inner: PaymentGateway, recorder: Any = None) -> None:
        self.inner = inner
        self.recorder = recorder

    def charge(
        self, order_id: str, amount: Decimal, customer_id: int, idempotency_key: str | None = None
    ) -> Charge:
        with self._subsegment() as sub:
            _annotate(sub, {"order_id": order_id})
            charge = self.inner.charge(order_id, amount, customer_id, idempotency_key)
            _annotate(sub, {"charge_status": str(charge.status)})
            return charge

    def lookup(self, order_id: str, idempotency_key: str) -> Charge | None:
        return self.inner.lookup(order_id, idempotency_key)

    def _subsegment(self) -> Any:
        if self.recorder is None:
            return subsegment(PAYMENT_SUBSEGMENT)
        return self.recorder.in_subsegment(PAYMENT_SUBSEGMENT)


def _annotate(entity: Any, annotations: dict[str, AnnotationValue]) -> None:
    if entity is None or not annotations:
        return
    from aws_xray_sdk.core.exceptions.exceptions import FacadeSegmentMutationException

    for key, value in annotations.items():
        try:
            entity.put_annotation(key, value)
        except FacadeSegmentMutationException:  # Lambda's own segment is read-only
            return


def _stack() -> Any:
    import traceback

    return traceback.extract_stack()


def reset() -> None:
    """Re-read AWS_XRAY_SDK_ENABLED on next use (tests)."""
    global _enabled
    with _lock:
        _enabled = None
