"""Dataclass rows as CSV and back: floats with 3 decimals, None as an empty cell, each cell read
back as its field's type."""

from __future__ import annotations

import csv
import dataclasses
import types
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

Row = TypeVar("Row")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def write(path: Path, rows: Iterable[Any], columns: Sequence[str]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([_cell(getattr(row, name)) for name in columns] for row in rows)


def _parser(hint: Any) -> Any:
    """Cell -> value of a field typed `hint`: `float | None` reads "" as None, `str` as ""."""
    if not isinstance(hint, types.UnionType):
        return hint
    kind = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return lambda cell: kind(cell) if cell else None


def read(path: Path, cls: type[Row]) -> list[Row]:
    parsers = {name: _parser(hint) for name, hint in typing.get_type_hints(cls).items()}
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [cls(**{n: parsers[n](row[n]) for n in names if n in row}) for row in rows]
