"""The local Lambda executor's pure parts: runtime -> interpreter, the function's environment."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

try:
    import localaws_lambda_executor  # noqa: F401
except ModuleNotFoundError:  # the executor is installed in LocalStack's venv, not in this one
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lambda_executor"))

from localaws_lambda_executor.environment import build_environment, import_paths
from localaws_lambda_executor.runtimes import (
    UnsupportedFunctionError,
    check_supported,
    default_interpreter,
    interpreter_var,
    resolve_interpreter,
)
from localaws_lambda_executor.shim import PATHS_VAR


def executable(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


# runtime -> interpreter -------------------------------------------------------------------------
def test_interpreter_variable_per_runtime():
    assert interpreter_var("python3.12") == "LAMBDA_LOCAL_PYTHON_3_12"
    assert interpreter_var("python3.9") == "LAMBDA_LOCAL_PYTHON_3_9"


def test_runtime_specific_interpreter_wins_over_the_generic_one(tmp_path):
    specific, generic = executable(tmp_path / "py312"), executable(tmp_path / "py")
    environ = {"LAMBDA_LOCAL_PYTHON_3_12": specific, "LAMBDA_LOCAL_PYTHON": generic}
    assert resolve_interpreter("python3.12", environ) == specific
    assert resolve_interpreter("python3.11", environ) == generic


def test_default_is_the_services_venv_of_the_checkout(tmp_path):
    venv_python = executable(tmp_path / ".venv" / "bin" / "python")
    assert resolve_interpreter("python3.11", {"FLASHSALE_ROOT": str(tmp_path)}) == venv_python


def test_default_checkout_is_found_relative_to_the_package():
    checkout = Path(__file__).resolve().parents[2]
    assert default_interpreter({}) == checkout / ".venv" / "bin" / "python"


def test_missing_interpreters_are_named_in_the_error(tmp_path):
    with pytest.raises(UnsupportedFunctionError, match="LAMBDA_LOCAL_PYTHON_3_13"):
        resolve_interpreter("python3.13", {"FLASHSALE_ROOT": str(tmp_path)})
    with pytest.raises(UnsupportedFunctionError, match="not an executable"):
        resolve_interpreter("python3.13", {"LAMBDA_LOCAL_PYTHON": str(tmp_path / "nope")})


@pytest.mark.parametrize(
    ("package_type", "runtime", "message"),
    [
        ("Zip", "nodejs20.x", "runtime 'nodejs20.x' is not supported"),
        ("Zip", "provided.al2023", "only python3.x zip functions"),
        ("Zip", None, "runtime None is not supported"),
        ("Image", None, "container image functions"),
    ],
)
def test_non_python_and_image_functions_are_refused(package_type, runtime, message):
    with pytest.raises(UnsupportedFunctionError, match=message):
        check_supported(package_type, runtime)


def test_python_zip_functions_are_supported():
    check_supported("Zip", "python3.11")


# environment ------------------------------------------------------------------------------------
LOCALSTACK_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "fn",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": 256,
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "GREETING": "from-function",
}
HOST_ENV = {
    "PATH": "/usr/bin",
    "HOME": "/home/someone",
    "AWS_ENDPOINT_URL": "http://elsewhere:1",
    "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:4567",
    "AWS_ENDPOINT_URL_XRAY": "http://127.0.0.1:4567",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2999",
    "PYTHONPATH": "/localstack/venv/lib",
    "VIRTUAL_ENV": "/localstack/venv",
    "LOCALSTACK_SECRET": "x",
}


def build(tmp_path: Path, **overrides) -> dict[str, str]:
    arguments = {
        "runtime": "python3.11",
        "runtime_env": LOCALSTACK_ENV,
        "function_env": {"GREETING": "from-function"},
        "host_env": HOST_ENV,
        "task_root": tmp_path / "code",
        "tmp_dir": tmp_path / "tmp",
        **overrides,
    }
    return build_environment(**arguments)


def test_endpoint_variables_of_localstack_reach_the_function(tmp_path):
    env = build(tmp_path)
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:4567"
    assert env["AWS_ENDPOINT_URL_XRAY"] == "http://127.0.0.1:4567"
    # LocalStack's own AWS_ENDPOINT_URL (its gateway as seen from the function) wins
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"


def test_only_host_basics_pass_through(tmp_path):
    env = build(tmp_path)
    assert env["PATH"] == "/usr/bin" and env["HOME"] == "/home/someone"
    assert not {"PYTHONPATH", "VIRTUAL_ENV", "LOCALSTACK_SECRET"} & env.keys()


def test_reserved_variables_are_strings_and_sandbox_paths_are_local(tmp_path):
    env = build(tmp_path)
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path / "code")
    assert env["TMPDIR"] == str(tmp_path / "tmp")
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert all(isinstance(value, str) for value in env.values())


def test_xray_daemon_address_passes_through_when_set(tmp_path):
    env = build(tmp_path)
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1:2999"
    assert (env["_AWS_XRAY_DAEMON_ADDRESS"], env["_AWS_XRAY_DAEMON_PORT"]) == ("127.0.0.1", "2999")
    without = {k: v for k, v in HOST_ENV.items() if k != "AWS_XRAY_DAEMON_ADDRESS"}
    assert build(tmp_path, host_env=without)["AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1:2000"


def test_the_functions_own_variables_win(tmp_path):
    function_env = {"AWS_ENDPOINT_URL_DYNAMODB": "http://mine:1", "TMPDIR": "/mine"}
    env = build(tmp_path, function_env=function_env)
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://mine:1"
    assert env["TMPDIR"] == "/mine"


def test_import_path_is_code_then_later_layers_first(tmp_path):
    first, second = tmp_path / "layer1", tmp_path / "layer2"
    for layer in (first, second):
        (layer / "python" / "lib" / "python3.12" / "site-packages").mkdir(parents=True)
    (tmp_path / "layer3").mkdir()  # a layer without a python/ folder adds nothing
    paths = import_paths("python3.12", tmp_path / "code", [first, second, tmp_path / "layer3"])
    site = Path("lib") / "python3.12" / "site-packages"
    assert paths == [
        str(tmp_path / "code"),
        str(second / "python" / site),
        str(first / "python" / site),
        str(second / "python"),
        str(first / "python"),
    ]
    env = build(tmp_path, runtime="python3.12", layer_dirs=[first, second])
    assert env[PATHS_VAR].split(os.pathsep) == paths[:5]
