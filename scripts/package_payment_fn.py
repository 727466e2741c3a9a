#!/usr/bin/env python3
"""Build the payment Lambda's deployment zip: build/payment_fn.zip.

Contents: the payment_fn package, the shared flashsale package (not its test support,
shared/testsupport), and their third-party dependencies as Linux x86_64 CPython 3.11 wheels (the
Lambda runtime), except boto3/botocore and what only they need: the runtime provides those. Every
module ships compiled for Python 3.11 (unchecked-hash .pyc, PEP 552: used as they are, whatever
the unzipped files' times), so a cold start does not compile the code it imports. The
zip is deterministic (sorted entries, fixed timestamps and permissions), so the same sources and
pins give the same bytes and the same content-addressed S3 key, which makes an unchanged redeploy
an empty change set.

Usage: .venv/bin/python scripts/package_payment_fn.py [--out build/payment_fn.zip]
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import py_compile
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {  # package folder -> its project (whose dependencies are bundled)
    ROOT / "services" / "payment_fn" / "payment_fn": ROOT / "services" / "payment_fn",
    ROOT / "shared" / "flashsale": ROOT / "shared",
}
PROVIDED_BY_RUNTIME = {"boto3", "botocore"}
PYTHON_VERSION = "3.11"
PLATFORM = "manylinux2014_x86_64"
MARKER_ENV = {
    "python_version": PYTHON_VERSION,
    "python_full_version": f"{PYTHON_VERSION}.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIP_PARTS = {"__pycache__", "tests"}
SKIP_SUFFIXES = {".pyc", ".pyo"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "payment_fn.zip")
    parser.add_argument(
        "--constraints", type=Path, default=ROOT / "constraints" / "dev.txt", help="version pins"
    )
    args = parser.parse_args(argv)

    staging = args.out.with_suffix("")  # build/payment_fn/: the unzipped tree, for inspection
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)

    local_names = {_project_name(project) for project in SOURCES.values()}
    roots = [
        req
        for project in SOURCES.values()
        for req in _dependencies(project)
        if canonicalize_name(req.name) not in local_names | PROVIDED_BY_RUNTIME
    ]
    _pip_install(roots, staging, args.constraints)
    removed = _prune(staging, roots)
    for package in SOURCES:
        _copy_tree(package, staging / package.name)
    _compile(staging)

    digest, size, count = _zip(staging, args.out)
    print(f"removed (provided by the Lambda runtime): {', '.join(sorted(removed)) or 'nothing'}")
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"{shown}: {size / 1e6:.2f} MB, {count} files, sha256 {digest}")
    return 0


def _project_name(project: Path) -> str:
    return canonicalize_name(
        tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"]
    )


def _dependencies(project: Path) -> list[Requirement]:
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    return [Requirement(spec) for spec in meta.get("dependencies", [])]


def _pip_install(requirements: list[Requirement], target: Path, constraints: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--target", str(target), "--no-compile", "--only-binary=:all:",
        "--platform", PLATFORM, "--python-version", PYTHON_VERSION, "--implementation", "cp",
        "-c", str(constraints), *sorted(str(r) for r in requirements),
    ]  # fmt: skip
    result = subprocess.run(command, stderr=subprocess.PIPE, text=True, check=False)
    noise = "WARNING: Location"  # unused local index folders of this machine's pip config
    sys.stderr.writelines(
        line for line in result.stderr.splitlines(keepends=True) if not line.startswith(noise)
    )
    if result.returncode != 0:
        raise SystemExit(f"pip install failed ({result.returncode})")


def _installed(staging: Path) -> dict[str, tuple[Path, list[Requirement]]]:
    """Distributions pip put in `staging`: name -> (dist-info folder, requirements)."""
    found = {}
    for dist_info in staging.glob("*.dist-info"):
        metadata = Parser().parsestr((dist_info / "METADATA").read_text(encoding="utf-8"))
        name = canonicalize_name(metadata["Name"])
        found[name] = (dist_info, [Requirement(r) for r in metadata.get_all("Requires-Dist") or []])
    return found


def _prune(staging: Path, roots: list[Requirement]) -> set[str]:
    """Remove what `roots` do not reach without passing through boto3/botocore."""
    installed = _installed(staging)
    keep: set[str] = set()
    pending = [(canonicalize_name(r.name), set(r.extras)) for r in roots]
    while pending:
        name, extras = pending.pop()
        if name in PROVIDED_BY_RUNTIME or name in keep or name not in installed:
            continue
        keep.add(name)
        for req in installed[name][1]:
            if _applies(req, extras):
                pending.append((canonicalize_name(req.name), set(req.extras)))
    removed = set(installed) - keep
    for name in removed:
        _uninstall(staging, installed[name][0])
    if (staging / "bin").exists():  # console scripts make no sense in a Lambda zip
        shutil.rmtree(staging / "bin")
    return removed


def _applies(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({**MARKER_ENV, "extra": extra}) for extra in extras | {""})


def _uninstall(staging: Path, dist_info: Path) -> None:
    """Delete the files a distribution's RECORD lists, then its now-empty folders."""
    folders = set()
    for line in (dist_info / "RECORD").read_text(encoding="utf-8").splitlines():
        relative = line.rsplit(",", 2)[0].strip('"')
        if not relative:
            continue
        path = (staging / relative).resolve()
        if path.is_relative_to(staging.resolve()) and path.is_file():
            path.unlink()
            folders.add(path.parent)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        while folder != staging.resolve() and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    if dist_info.exists():
        shutil.rmtree(dist_info)


def _copy_tree(source: Path, destination: Path) -> None:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_dir() or _skipped(relative):
            continue
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination / relative)


def _compile(staging: Path) -> None:
    """Bytecode for the runtime's Python, beside each module (__pycache__), deterministic."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" != PYTHON_VERSION:
        raise SystemExit(
            f"run with Python {PYTHON_VERSION} (the runtime's): bytecode is per version"
        )
    compileall.compile_dir(
        staging,
        quiet=2,  # a dependency's file for another Python version stays source-only
        stripdir=str(staging),  # relative names: the same bytes wherever it is built (the
        # import system puts the real path in when it loads the code)
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


def _zipped(relative: Path) -> bool:
    """What goes into the zip: every file of the staging tree but tests (its .pyc are ours)."""
    return "tests" not in relative.parts


def _skipped(relative: Path) -> bool:
    return bool(SKIP_PARTS & set(relative.parts)) or relative.suffix in SKIP_SUFFIXES


def _zip(staging: Path, out: Path) -> tuple[str, int, int]:
    """Zip `staging` deterministically; returns (sha256, bytes, file count)."""
    files = sorted(p for p in staging.rglob("*") if p.is_file() and _zipped(p.relative_to(staging)))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(staging).as_posix(), date_time=FIXED_TIME)
            info.external_attr = 0o100644 << 16  # regular file, rw-r--r--
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever machine builds it
            archive.writestr(info, path.read_bytes())
    tmp.replace(out)
    data = out.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data), len(files)


if __name__ == "__main__":
    sys.exit(main())
