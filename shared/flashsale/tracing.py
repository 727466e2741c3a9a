"""X-Ray helpers that cost nothing when tracing is off (AWS_XRAY_SDK_ENABLED unset/false).

    tracing.configure(service="orders-api")          # once at start-up; patches botocore
    with tracing.segment("order-processor"):           # entrypoints without a web framework
        with tracing.subsegment("payment", order_id=oid):
            tracing.annotate(route="ecs")

The Lambda uses Powertools' Tracer instead; inside it these helpers add subsegments to the
Lambda's own segment.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flashsale.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
AnnotationValue = str | int | float | bool

_lock = threading.Lock()
_enabled: bool | None = None


def _recorder() -> Any:
    from aws_xray_sdk.core import xray_recorder

    return xray_recorder


def enabled() -> bool:
    global _enabled
    if _enabled is None:
        _enabled = Settings.from_env().xray_enabled
    return _enabled


def configure(
    settings: Settings | None = None, service: str | None = None, patch: bool = True
) -> bool:
    """Set up the X-Ray recorder if tracing is enabled; returns whether it is."""
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
        recorder.configure(**options)
        if patch:
            from aws_xray_sdk.core import patch as xray_patch

            xray_patch(["botocore"])
    return True


@contextmanager
def segment(name: str, **annotations: AnnotationValue) -> Iterator[Any]:
    """A top-level segment (for the processor's unit of work); no-op when disabled."""
    if not enabled():
        yield None
        return
    recorder = _recorder()
    seg = recorder.begin_segment(name)
    try:
        _annotate(seg, annotations)
        yield seg
    except Exception as exc:
        seg.add_exception(exc, _stack())
        raise
    finally:
        recorder.end_segment()


@contextmanager
def subsegment(name: str, **annotations: AnnotationValue) -> Iterator[Any]:
    """A subsegment of the current segment; no-op when disabled or outside any segment."""
    if not enabled():
        yield None
        return
    recorder = _recorder()
    sub = recorder.begin_subsegment(name)
    if sub is None:  # no active segment: nothing to attach to
        yield None
        return
    try:
        _annotate(sub, annotations)
        yield sub
    except Exception as exc:
        sub.add_exception(exc, _stack())
        raise
    finally:
        recorder.end_subsegment()


def annotate(**annotations: AnnotationValue) -> None:
    """Add annotations (indexed, searchable) to the current (sub)segment, if any."""
    if not enabled():
        return
    entity = _recorder().current_subsegment() or _recorder().current_segment()
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


def _annotate(entity: Any, annotations: dict[str, AnnotationValue]) -> None:
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
