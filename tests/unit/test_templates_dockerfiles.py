"""The services' Dockerfile (no Docker engine here), per target: what it copies exists, what it
runs exists, slim base, non-root user, a health check, its own service's venv."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "services" / "Dockerfile"
# target -> modules its CMD runs
TARGETS = {
    "api": ["orders_api.wsgi", "orders_api.gunicorn_conf"],
    "processor": ["order_processor.__main__"],
}
Instruction = tuple[str, str]


def instructions() -> list[Instruction]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def stages() -> dict[str, tuple[str, list[Instruction]]]:
    """Stage name -> (what it is FROM, its instructions after FROM)."""
    found: dict[str, tuple[str, list[Instruction]]] = {}
    for op, args in instructions():
        if op == "FROM":
            base, _, stage = args.split()
            found[stage] = (base, [])
        else:
            found[stage][1].append((op, args))
    return found


def image(target: str) -> list[Instruction]:
    """Every instruction the target's image is made of, from its base stage down."""
    chain = stages()
    base, ops = chain[target]
    return (image(base) if base in chain else []) + ops


def test_every_stage_grows_from_slim_python_311() -> None:
    chain = stages()
    assert set(TARGETS) <= set(chain)
    for base, _ in chain.values():
        assert base in chain or base == "python:3.11-slim"


@pytest.mark.parametrize("target", TARGETS)
def test_the_image_runs_as_a_non_root_user_with_a_health_check(target: str) -> None:
    ops = image(target)
    users = [args for op, args in ops if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(op == "HEALTHCHECK" for op, _ in stages()[target][1])
    assert [op for op, _ in ops][-1] == "CMD"


@pytest.mark.parametrize("target", TARGETS)
def test_the_image_holds_the_venv_its_own_service_was_installed_into(target: str) -> None:
    (copied,) = [args for op, args in image(target) if op == "COPY"]
    assert copied.split()[0] == f"--from={target}-build"
    installs = " ".join(args for op, args in image(f"{target}-build") if op == "RUN")
    assert f"./services/{target}" in installs and "./shared" in installs


def test_what_it_copies_exists_in_the_repository() -> None:
    sources = [
        args.split()[0] for op, args in instructions() if op == "COPY" and not args.startswith("--")
    ]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source} is missing"


@pytest.mark.parametrize(("target", "modules"), TARGETS.items(), ids=list(TARGETS))
def test_what_it_runs_exists(target: str, modules: list[str]) -> None:
    (cmd,) = [json.loads(args) for op, args in stages()[target][1] if op == "CMD"]
    command = " ".join(cmd)
    for module in modules:
        assert module.removesuffix(".__main__") in command
        assert importlib.util.find_spec(module) is not None, f"{module} is not importable"
