"""`python -m localaws up|down|status|logs|env`: the local platform's command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from localaws import compose, envfile
from localaws.components import Component, platform_components
from localaws.config import PlatformConfig
from localaws.health import wait_until
from localaws.supervisor import StartError, Supervisor


def _components(cfg: PlatformConfig) -> list[Component]:
    return platform_components(cfg)


def _mode_file(cfg: PlatformConfig):
    return cfg.state_dir / "mode"


def _print_table(rows: list[dict[str, object]]) -> None:
    print(f"{'name':<12} {'state':<14} {'pid':>7} {'rss MiB':>8}  endpoint")
    for row in rows:
        pid = row["pid"] if row["pid"] is not None else "-"
        rss = row["rss_mib"] if row["rss_mib"] is not None else "-"
        print(f"{row['name']:<12} {row['state']:<14} {pid:>7} {rss:>8}  {row['endpoint']}")


def cmd_up(cfg: PlatformConfig, args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    mode = compose.choose_mode(cfg)
    _mode_file(cfg).write_text(mode)
    components = _components(cfg)
    if mode == "docker":
        compose.compose(cfg, "up", "-d")
        for component in components:
            if not wait_until(component.ready, component.start_timeout):
                print(f"{component.name} did not become ready (docker mode)", file=sys.stderr)
                return 1
    else:
        supervisor = Supervisor(cfg)
        try:
            for component in components:
                result = supervisor.ensure(component)
                timing = f" in {result.seconds:.1f} s" if result.state == "started" else ""
                print(f"{component.name}: {result.state} (pid {result.pid}){timing}")
        except StartError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    env = cfg.client_env()
    envfile.write(cfg.env_file, env)
    print(f"\nlocal platform up ({mode} mode) after {time.monotonic() - t0:.1f} s")
    if mode == "host":
        _print_table(Supervisor(cfg).status(components))
    print(f'\nenvironment: source {cfg.env_file}   (or: eval "$(make -s env)")')
    return 0


def cmd_down(cfg: PlatformConfig, args: argparse.Namespace) -> int:
    mode_file = _mode_file(cfg)
    mode = mode_file.read_text().strip() if mode_file.exists() else "host"
    components = _components(cfg)
    if mode == "docker":
        compose.compose(cfg, "down")
    else:
        supervisor = Supervisor(cfg)
        results = supervisor.stop(components)
        for name, how in results:
            print(f"{name}: {how}")
        if not results:
            print("nothing was running")
        left = supervisor.leftovers(components)
        if left:
            print(f"error: still listening after stop: {', '.join(left)}", file=sys.stderr)
            return 1
    mode_file.unlink(missing_ok=True)
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
    for name in names:
        path = cfg.log_dir / f"{name}.log"
        print(f"==> {path.relative_to(cfg.root) if path.is_relative_to(cfg.root) else path} <==")
        if path.exists():
            print("\n".join(path.read_text(errors="replace").splitlines()[-args.lines :]))
    return 0


def cmd_env(cfg: PlatformConfig, args: argparse.Namespace) -> int:
    env = envfile.read(cfg.env_file) or cfg.client_env()
    print(envfile.render(env))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localaws", description="The project's local AWS.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start what is not running and wait until it answers")
    sub.add_parser("down", help="stop what `up` started")
    status = sub.add_parser("status", help="what runs where")
    status.add_argument("--json", action="store_true")
    logs = sub.add_parser("logs", help="the last lines of each log")
    logs.add_argument("name", nargs="?")
    logs.add_argument("-n", "--lines", type=int, default=40)
    sub.add_parser("env", help="print the environment for boto3 / aws CLI as a shell line")
    args = parser.parse_args(argv)
    cfg = PlatformConfig.from_env()
    handler = {
        "up": cmd_up,
        "down": cmd_down,
        "status": cmd_status,
        "logs": cmd_logs,
        "env": cmd_env,
    }[args.command]
    return handler(cfg, args)
