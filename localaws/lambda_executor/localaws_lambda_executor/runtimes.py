"""Which local interpreter runs a function, and which functions can run locally at all."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

GENERIC_INTERPRETER_VAR = "LAMBDA_LOCAL_PYTHON"
ROOT_VAR = "FLASHSALE_ROOT"


class UnsupportedFunctionError(Exception):
    """The function cannot run here (package type, runtime or interpreter)."""


def check_supported(package_type: str | None, runtime: str | None) -> None:
    """Only zip-packaged `python3.x` functions run as local processes."""
    if package_type == "Image":
        raise UnsupportedFunctionError(
            "container image functions cannot run on the local Lambda executor "
            "(LAMBDA_RUNTIME_EXECUTOR=local): use LocalStack's docker executor"
        )
    if not runtime or not runtime.startswith("python3."):
        raise UnsupportedFunctionError(
            f"runtime {runtime!r} is not supported by the local Lambda executor "
            "(LAMBDA_RUNTIME_EXECUTOR=local): only python3.x zip functions run as local processes"
        )


def python_version(runtime: str) -> str:
    """`python3.12` -> `3.12`."""
    return runtime.removeprefix("python")


def interpreter_var(runtime: str) -> str:
    """`python3.12` -> `LAMBDA_LOCAL_PYTHON_3_12`."""
    return f"{GENERIC_INTERPRETER_VAR}_{python_version(runtime).replace('.', '_')}"


def checkout_root(environ: Mapping[str, str]) -> Path:
    """The project checkout: `$FLASHSALE_ROOT`, else the one this package lives in."""
    if environ.get(ROOT_VAR):
        return Path(environ[ROOT_VAR])
    # <checkout>/localaws/lambda_executor/localaws_lambda_executor/runtimes.py
    return Path(__file__).resolve().parents[3]


def default_interpreter(environ: Mapping[str, str]) -> Path:
    """The services' virtualenv interpreter (kept unresolved: a venv's python is a symlink)."""
    return checkout_root(environ) / ".venv" / "bin" / "python"


def _usable(path: str | Path) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def resolve_interpreter(runtime: str, environ: Mapping[str, str] = os.environ) -> str:
    """`LAMBDA_LOCAL_PYTHON_3_X`, else `LAMBDA_LOCAL_PYTHON`, else the services' venv python."""
    check_supported("Zip", runtime)
    for var in (interpreter_var(runtime), GENERIC_INTERPRETER_VAR):
        value = environ.get(var)
        if value:
            if not _usable(value):
                raise UnsupportedFunctionError(f"{var}={value} is not an executable interpreter")
            return value
    default = default_interpreter(environ)
    if _usable(default):
        return str(default)
    raise UnsupportedFunctionError(
        f"no local interpreter for {runtime}: set {interpreter_var(runtime)} or "
        f"{GENERIC_INTERPRETER_VAR} (the default {default} does not exist)"
    )
