"""scripts/package_payment_fn.py: deterministic zips, and boto3/botocore left to the runtime."""

from __future__ import annotations

import importlib.util
import os
import re
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "package_payment_fn.py"


@pytest.fixture(scope="module")
def packager() -> ModuleType:
    spec = importlib.util.spec_from_file_location("package_payment_fn", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(root: Path, files: dict[str, str]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def test_the_zip_is_byte_identical_whatever_the_file_times(
    packager: ModuleType, tmp_path: Path
) -> None:
    files = {"b/mod.py": "x = 1\n", "a.py": "y = 2\n"}
    _tree(tmp_path / "one", files)
    _tree(tmp_path / "two", files)
    os.utime(tmp_path / "two" / "a.py", (1_000_000_000, 1_000_000_000))
    (tmp_path / "two" / "b" / "mod.py").chmod(0o755)

    for tree in ("one", "two"):
        packager._compile(tmp_path / tree)
    first = packager._zip(tmp_path / "one", tmp_path / "one.zip")
    second = packager._zip(tmp_path / "two", tmp_path / "two.zip")

    assert first == second
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert archive.namelist() == [  # sorted, each module with its bytecode
            "__pycache__/a.cpython-311.pyc",
            "a.py",
            "b/__pycache__/mod.cpython-311.pyc",
            "b/mod.py",
        ]
        assert {info.date_time for info in archive.infolist()} == {packager.FIXED_TIME}
        header = archive.read("b/__pycache__/mod.cpython-311.pyc")[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    # PEP 552 flags: hash-based (bit 0), not checked against the source (bit 1 clear)
    assert int.from_bytes(header[4:8], "little") == 0b01


def _dist(staging: Path, name: str, files: list[str], requires: list[str]) -> None:
    dist_info = staging / f"{name}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    metadata = [f"Name: {name}", "Version: 1.0", *[f"Requires-Dist: {r}" for r in requires]]
    (dist_info / "METADATA").write_text("\n".join(metadata) + "\n")
    record = [*files, f"{dist_info.name}/METADATA", f"{dist_info.name}/RECORD"]
    (dist_info / "RECORD").write_text("".join(f"{f},,\n" for f in record))
    for relative in files:
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
        (staging / relative).write_text("#\n")


def test_what_only_boto3_or_botocore_needs_is_pruned(packager: ModuleType, tmp_path: Path) -> None:
    _dist(
        tmp_path, "powertools", ["powertools/__init__.py"], ["jmespath", "xray; extra == 'tracer'"]
    )
    _dist(tmp_path, "xray", ["xray/__init__.py"], ["botocore", "wrapt"])
    _dist(tmp_path, "wrapt", ["wrapt/__init__.py"], [])
    _dist(tmp_path, "jmespath", ["jmespath/__init__.py"], [])
    _dist(tmp_path, "botocore", ["botocore/__init__.py", "botocore/data/x.json"], ["urllib3"])
    _dist(tmp_path, "urllib3", ["urllib3/__init__.py"], [])
    _dist(tmp_path, "windows-only", ["win/__init__.py"], [])
    _dist(tmp_path, "marshmallow", ["marshmallow/__init__.py"], ["windows-only; os_name == 'nt'"])

    removed = packager._prune(
        tmp_path, [Requirement("powertools[tracer]"), Requirement("marshmallow")]
    )

    assert removed == {"botocore", "urllib3", "windows-only"}
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert "botocore" not in remaining and "urllib3" not in remaining and "win" not in remaining
    assert {"powertools", "xray", "wrapt", "jmespath", "marshmallow"} <= set(remaining)


def test_the_shipped_sources_hold_no_test_support(packager: ModuleType, tmp_path: Path) -> None:
    """Fakes, test helpers and benchmarks live outside the packages the zip copies."""
    for package in packager.SOURCES:
        packager._copy_tree(package, tmp_path / package.name)
    shipped = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.py"))

    assert Path("payment_fn/handler.py") in shipped and Path("flashsale/bootstrap.py") in shipped
    test_like = [str(p) for p in shipped if p.stem in {"testing", "memory", "bench", "fakes"}]
    assert test_like == []
    importing = [
        str(p)
        for p in shipped
        if re.search(r"^\s*(from|import) flashsale_testing\b", (tmp_path / p).read_text(), re.M)
    ]
    assert importing == []
