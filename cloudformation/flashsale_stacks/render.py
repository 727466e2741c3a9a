"""Deterministic template rendering: sorted keys, no timestamps, one trailing newline."""

from __future__ import annotations

from pathlib import Path

from troposphere import Template


def render(template: Template) -> str:
    return template.to_json(indent=2, sort_keys=True) + "\n"


def write_templates(rendered: dict[str, str], out_dir: Path) -> list[Path]:
    """Write `<stack>.json` files; only files whose content changed are rewritten."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stack, body in sorted(rendered.items()):
        path = out_dir / f"{stack}.json"
        if not path.exists() or path.read_text() != body:
            path.write_text(body)
        written.append(path)
    return written
