"""`python -m localaws up|down|status|logs|env|restart`: the local platform's command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from localaws import compose, envfile, pipeline
from localaws.components import Component, platform_components
from localaws.config import HOST, PlatformConfig
from localaws.health import wait_until
from localaws.supervisor import StartError, StartResult, Supervisor


def _components(cfg: PlatformConfig, platform_only: bool = False) -> list[Component]:
    if platform_only:
        return platform_components(cfg)
    return platform_components(cfg) + pipeline.pipeline_components(cfg)


def _user_env(cfg: PlatformConfig) -> dict[str, str]:
    """The env file's content: how to reach the platform and the API."""
    from flashsale.settings import Settings  # the services' own view of their settings

    settings = Settings.from_env(pipeline.service_env(cfg))
    env = cfg.client_env()
    env.update(API_URL=f"http://{HOST}:{cfg.api_port}", ENV_NAME=settings.env_name)
    if settings.admin_api_key:
        env["ADMIN_API_KEY"] = settings.admin_api_key
    return env


def _mode_file(cfg: PlatformConfig) -> Path:
    return cfg.state_dir / "mode"


def _print_table(rows: list[dict[str, object]]) -> None:
    print(f"{'name':<12} {'state':<14} {'pid':>7} {'rss MiB':>8}  endpoint")
    for row in rows:
        pid = row["pid"] if row["pid"] is not None else "-"
        rss = row["rss_mib"] if row["rss_mib"] is not None else "-"
        print(f"{row['name']:<12} {row['state']:<14} {pid:>7} {rss:>8}  {row['endpoint']}")


def _report(result: StartResult) -> None:
    timing = f" in {result.seconds:.1f} s" if result.state == "started" else ""
    print(f"{result.name}: {result.state} (pid {result.pid}){timing}")


def _print_stopped(results: list[tuple[str, str]]) -> None:
    for name, how in results:
        print(f"{name}: {how}")
    if not results:
        print("nothing was running")


def cmd_up(cfg: PlatformConfig, args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    mode = compose.choose_mode(cfg)
    _mode_file(cfg).write_text(mode)
    platform = platform_components(cfg)
    supervisor = Supervisor(cfg)
    try:
        if mode == "docker":
            compose.compose(cfg, "up", "-d")
            for component in platform:
                if not wait_until(component.ready, component.start_timeout):
                    raise StartError(f"{component.name} did not become ready (docker mode)")
        else:
            for component in platform:
                _report(supervisor.ensure(component))
        envfile.write(cfg.env_file, _user_env(cfg))
        if not args.platform_only:
            for step in pipeline.provisioning_steps(cfg):
                pipeline.run_step(cfg, step)
            for component in pipeline.pipeline_components(cfg):
                _report(supervisor.ensure(component))
    except (StartError, pipeline.StepError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    what = "local platform" if args.platform_only else "local platform and pipeline"
    print(f"\n{what} up ({mode} mode) after {time.monotonic() - t0:.1f} s")
    names = {c.name for c in platform}
    shown = [
        c for c in _components(cfg, args.platform_only) if mode == "host" or c.name not in names
    ]
    _print_table(supervisor.status(shown))
    env = envfile.read(cfg.env_file)
    if "ADMIN_API_KEY" in env and not args.platform_only:
        print(f"\nadmin key (header X-Admin-Key, for PUT /products/<id>): {env['ADMIN_API_KEY']}")
    print(f'environment: source {cfg.env_file}   (or: eval "$(make -s env)")')
    return 0


def cmd_down(cfg: PlatformConfig, args: argparse.Namespace) -> int:
    mode_file = _mode_file(cfg)
    mode = mode_file.read_text().strip() if mode_file.exists() else "host"
    components = _components(cfg)
    supervisor = Supervisor(cfg)
    if mode == "docker":
        platform = {c.name for c in platform_components(cfg)}
        stopped = supervisor.stop([c for c in components if c.name not in platform], strays=True)
        compose.compose(cfg, "down")
    else:
        stopped = supervisor.stop(components, strays=True)
    _print_stopped(stopped)
    names = {name for name, _ in stopped}
    left = supervisor.leftovers(c for c in components if c.name in names)
    if left:
        print(f"error: still listening after stop: {', '.join(left)}", file=sys.stderr)
        return 1
    mode_file.unlink(missing_ok=True)
    return 0


def cmd_restart(cfg: PlatformConfig, args: argparse.Namespace) -> int:
    """Restart one component with the current environment (e.g. other settings)."""
    supervisor = Supervisor(cfg)
    component = next(c for c in _components(cfg) if c.name == args.name)
    _print_stopped(supervisor.stop([component]))
    try:
        _report(supervisor.ensure(component))
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_stop(cfg: PlatformConfig, args: argparse.Namespace) -> int:
    """Stop one component (e.g. the processor, to let a backlog build up)."""
    component = next(c for c in _components(cfg) if c.name == args.name)
    _print_stopped(Supervisor(cfg).stop([component]))
    return 0


def cmd_start(cfg: PlatformConfig, args: argparse.Namespace) -> int:
    """Start one component if it is not running, with the current environment."""
    component = next(c for c in _components(cfg) if c.name == args.name)
    try:
        _report(Supervisor(cfg).ensure(component))
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_status(cfg: PlatformConfig, args: argparse.Namespace) -> int:
    rows = Supervisor(cfg).status(_components(cfg))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
    return 0 if all(row["state"] == "ready" for row in rows) else 3


def cmd_logs(cfg: PlatformConfig, args: argparse.Namespace) -> int:
    names = [args.name] if args.name else [c.name for c in _components(cfg)]
    names += [] if args.name else [s.name for s in pipeline.provisioning_steps(cfg)]
    for name in names:
        path = cfg.log_dir / f"{name}.log"
        if not path.exists():
            continue
        shown = path.relative_to(cfg.root) if path.is_relative_to(cfg.root) else path
        print(f"==> {shown} <==")
        print("\n".join(path.read_text(errors="replace").splitlines()[-args.lines :]))
    return 0


def cmd_env(cfg: PlatformConfig, args: argparse.Namespace) -> int:
    print(envfile.render(envfile.read(cfg.env_file) or _user_env(cfg)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    cfg = PlatformConfig.from_env()
    parser = argparse.ArgumentParser(prog="localaws", description="The project's local AWS.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start what is not running and wait until it answers")
    up.add_argument("--platform-only", action="store_true", help="only the emulators")
    sub.add_parser("down", help="stop what `up` started")
    status = sub.add_parser("status", help="what runs where")
    status.add_argument("--json", action="store_true")
    logs = sub.add_parser("logs", help="the last lines of each log")
    logs.add_argument("name", nargs="?")
    logs.add_argument("-n", "--lines", type=int, default=40)
    sub.add_parser("env", help="print the environment for boto3 / aws CLI as a shell line")
    names = [c.name for c in _components(cfg)]
    for command, text in (
        ("restart", "restart one component with the current environment"),
        ("stop", "stop one component"),
        ("start", "start one component if it is not running"),
    ):
        sub.add_parser(command, help=text).add_argument("name", choices=names)
    args = parser.parse_args(argv)
    handlers = {
        "up": cmd_up,
        "down": cmd_down,
        "status": cmd_status,
        "logs": cmd_logs,
        "env": cmd_env,
        "restart": cmd_restart,
        "stop": cmd_stop,
        "start": cmd_start,
    }
    return handlers[args.command](cfg, args)
