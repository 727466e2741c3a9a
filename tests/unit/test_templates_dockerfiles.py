"""The service Dockerfiles (no Docker engine here): what they copy exists, what they run exists,
slim base, non-root user, a health check."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Dockerfile -> modules its CMD runs
DOCKERFILES = {
    ROOT / "services" / "api" / "Dockerfile": ["orders_api.wsgi", "orders_api.gunicorn_conf"],
    ROOT / "services" / "processor" / "Dockerfile": ["order_processor.__main__"],
}


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_every_stage_is_slim_python_311(dockerfile: Path) -> None:
    bases = [args.split()[0] for op, args in instructions(dockerfile) if op == "FROM"]
    assert bases and all(base == "python:3.11-slim" for base in bases)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_the_final_stage_runs_as_a_non_root_user_with_a_health_check(dockerfile: Path) -> None:
    ops = instructions(dockerfile)
    final = ops[max(i for i, (op, _) in enumerate(ops) if op == "FROM") :]
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(op == "HEALTHCHECK" for op, _ in final)
    assert [op for op, _ in final][-1] == "CMD"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_what_it_copies_exists_in_the_repository(dockerfile: Path) -> None:
    sources = [
        args.split()[0]
        for op, args in instructions(dockerfile)
        if op == "COPY" and not args.startswith("--from")
    ]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"{dockerfile.parent.name}: COPY {source} is missing"


@pytest.mark.parametrize(
    ("dockerfile", "modules"), DOCKERFILES.items(), ids=[p.parent.name for p in DOCKERFILES]
)
def test_what_it_runs_exists(dockerfile: Path, modules: list[str]) -> None:
    (cmd,) = [json.loads(args) for op, args in instructions(dockerfile) if op == "CMD"]
    command = " ".join(cmd)
    for module in modules:
        assert module.removesuffix(".__main__") in command
        assert importlib.util.find_spec(module) is not None, f"{module} is not importable"
