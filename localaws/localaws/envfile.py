"""The one-line environment file a shell can source to talk to the local platform."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path


def render(env: Mapping[str, str]) -> str:
    return "export " + " ".join(f"{key}={shlex.quote(value)}" for key, value in sorted(env.items()))


def write(path: Path, env: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(env) + "\n")


def read(path: Path) -> dict[str, str]:
    """Parse a file written by `write` (missing file: empty)."""
    if not path.exists():
        return {}
    words = shlex.split(path.read_text())
    return dict(word.split("=", 1) for word in words[1:] if "=" in word)
