"""The environment of a function's process: what the real runtime sets, adapted to the host.

Precedence, lowest first: a few host basics (PATH, locale, HOME), the AWS endpoint variables of
LocalStack's own environment (so boto3 in a handler reaches the local platform, e.g. DynamoDB and
X-Ray on moto), the variables LocalStack computes for the execution environment (reserved Lambda
variables, credentials, AWS_ENDPOINT_URL), host equivalents of the sandbox paths, and last the
function's own variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from localaws_lambda_executor.runtimes import python_version
from localaws_lambda_executor.shim import PATHS_VAR

HOST_BASICS = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "HOME", "SSL_CERT_FILE", "SSL_CERT_DIR")
ENDPOINT_VAR = "AWS_ENDPOINT_URL"
XRAY_DAEMON_VAR = "AWS_XRAY_DAEMON_ADDRESS"


def is_endpoint_var(name: str) -> bool:
    """AWS_ENDPOINT_URL and every AWS_ENDPOINT_URL_<SERVICE>."""
    return name == ENDPOINT_VAR or name.startswith(ENDPOINT_VAR + "_")


def import_paths(
    runtime: str, task_root: str | Path, layer_dirs: Sequence[str | Path]
) -> list[str]:
    """The handler's import path as in the sandbox: the code, then each layer's equivalent of
    `/opt/python/lib/pythonX.Y/site-packages` and `/opt/python`. Layers are unzipped over each
    other into /opt in order, so the directories of a later layer come first here."""
    later_first = [Path(layer) / "python" for layer in reversed(layer_dirs)]
    version = python_version(runtime)
    site = [path / "lib" / f"python{version}" / "site-packages" for path in later_first]
    candidates = [Path(task_root), *site, *later_first]
    return [str(path) for path in candidates if path == Path(task_root) or path.is_dir()]


def build_environment(
    *,
    runtime: str,
    runtime_env: Mapping[str, object],
    function_env: Mapping[str, str],
    host_env: Mapping[str, str],
    task_root: str | Path,
    layer_dirs: Sequence[str | Path] = (),
    tmp_dir: str | Path | None = None,
) -> dict[str, str]:
    """Everything the runtime process gets; `runtime_env` is what LocalStack hands the executor."""
    env = {name: host_env[name] for name in HOST_BASICS if name in host_env}
    env.update({name: value for name, value in host_env.items() if is_endpoint_var(name)})
    env.update({name: str(value) for name, value in runtime_env.items()})
    env.update(
        LAMBDA_TASK_ROOT=str(task_root),
        LAMBDA_RUNTIME_DIR=str(Path(__file__).parent),
        AWS_EXECUTION_ENV=f"AWS_Lambda_{runtime}",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env[PATHS_VAR] = os.pathsep.join(import_paths(runtime, task_root, layer_dirs))
    if tmp_dir is not None:
        env["TMPDIR"] = str(tmp_dir)
    daemon = host_env.get(XRAY_DAEMON_VAR)
    if daemon:
        host, _, port = daemon.rpartition(":")
        env.update({XRAY_DAEMON_VAR: daemon, "_AWS_XRAY_DAEMON_ADDRESS": host})
        env["_AWS_XRAY_DAEMON_PORT"] = port
    env.update({name: str(value) for name, value in function_env.items()})
    return env
