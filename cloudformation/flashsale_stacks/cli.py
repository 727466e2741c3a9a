"""python -m flashsale_stacks templates|validate|deploy|deploy-all|delete|outputs

templates [--out build/templates]          write every template (deterministic JSON)
validate [STACK ...]                       cfn-lint every (or the named) template
deploy STACK [--env local|aws] ...         change-set deploy of one stack, prints its outputs
deploy-all [--env local|aws] ...           every stack in order (locally: the deployable ones,
                                           the others are validated)
delete STACK [--env local|aws] ...         delete one stack and wait
outputs STACK [--env local|aws] ...        print a deployed stack's outputs as KEY=VALUE
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from flashsale_stacks import artifacts, emulator_gaps, policy_check, registry
from flashsale_stacks.deploy import (
    DeployFailed,
    Waiter,
    delete_stack,
    deploy_stack,
    describe,
    format_event,
    outputs_of,
)
from flashsale_stacks.lint import lint_template
from flashsale_stacks.registry import LocalTarget, StackSpec
from flashsale_stacks.render import write_templates
from flashsale_stacks.targets import Env, Target

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ZIP = ROOT / "build" / "payment_fn.zip"
PACKAGER = ROOT / "scripts" / "package_payment_fn.py"
LOCAL_MAX_CONCURRENCY = "10"
DEFAULT_TEMPLATES = ROOT / "build" / "templates"
TIMEOUTS = {Env.LOCAL: 300.0, Env.AWS: 3600.0}


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except DeployFailed as error:
        print(f"FAILED: {error}", file=sys.stderr)
        if error.events:
            print("stack events of this attempt (oldest first):", file=sys.stderr)
            for event in error.events:
                print(f"  {format_event(event)}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:  # credentials, endpoints, API refusals
        print(f"error: {error}", file=sys.stderr)
        return 1


# commands -----------------------------------------------------------------------------------------
def cmd_templates(args: argparse.Namespace) -> int:
    for path in write_templates(registry.render_all(), Path(args.out)):
        print(path)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    specs = [registry.get(key) for key in args.stacks] if args.stacks else registry.STACKS
    return 0 if all(_lint(spec) for spec in specs) else 1


def cmd_deploy(args: argparse.Namespace) -> int:
    return _deploy([_spec(args.stack)], args)


def cmd_deploy_all(args: argparse.Namespace) -> int:
    return _deploy(list(registry.STACKS), args)


def cmd_deploy_local(args: argparse.Namespace) -> int:
    """What `make up` runs: package the Lambda zip, deploy the locally deployable stacks."""
    args.env = Env.LOCAL.value
    subprocess.run([sys.executable, str(PACKAGER), "--out", args.code], check=True)
    target = Target.from_environ(Env.LOCAL)
    return _deploy([spec for spec in registry.STACKS if target.deployable(spec)], args)


def cmd_delete(args: argparse.Namespace) -> int:
    spec, target = _spec(args.stack), _target(args)
    if not target.deployable(spec):
        raise UsageError(f"{spec.key} is not deployed locally (validated only)")
    delete_stack(target.cloudformation(spec), spec.stack_name(args.env_name), _waiter(args))
    return 0


def cmd_outputs(args: argparse.Namespace) -> int:
    spec, target = _spec(args.stack), _target(args)
    if not target.deployable(spec):
        raise UsageError(f"{spec.key} is not deployed locally (validated only)")
    stack = describe(target.cloudformation(spec), spec.stack_name(args.env_name))
    if stack is None:
        print(f"{spec.stack_name(args.env_name)} does not exist", file=sys.stderr)
        return 1
    for key, value in sorted(outputs_of(stack).items()):
        print(f"{key}={value}")
    return 0


# deploying ----------------------------------------------------------------------------------------
def _deploy(specs: list[StackSpec], args: argparse.Namespace) -> int:
    target = _target(args)
    overrides = _parse_params(args.param)
    bodies = {spec.key: spec.render() for spec in specs}
    declared = {key: set(json.loads(body).get("Parameters", {})) for key, body in bodies.items()}
    unknown = set(overrides) - set().union(*declared.values())
    if unknown:
        raise UsageError(f"no stack here declares parameter(s) {', '.join(sorted(unknown))}")

    for spec in specs:
        if not _lint(spec, bodies[spec.key]):
            return 1
        if not target.deployable(spec):
            print(f"{spec.key}: validated; not deployable locally (deploy it with --env aws)")
            continue
        parameters = _parameters(spec, target, args, overrides, declared[spec.key])
        result = deploy_stack(
            target.cloudformation(spec),
            spec.stack_name(args.env_name),
            bodies[spec.key],
            parameters,
            {"Project": "flashsale", "Environment": args.env_name},
            _waiter(args),
        )
        if target.env is Env.LOCAL and spec.local is LocalTarget.MOTO:
            for table in emulator_gaps.apply_ttl(
                target.dynamodb(), bodies[spec.key], args.env_name
            ):
                print(f"{table}: TTL set through the DynamoDB API (moto's CloudFormation skips it)")
        for key, value in sorted(result.outputs.items()):
            print(f"  {key} = {value}")
    return 0


def _parameters(
    spec: StackSpec,
    target: Target,
    args: argparse.Namespace,
    overrides: dict[str, str],
    declared: set[str],
) -> dict[str, str]:
    """EnvName, the environment's defaults for this stack, then the user's --param values."""
    values = {"EnvName": args.env_name}
    if target.env is Env.LOCAL and spec.key == "data":
        values.update(PointInTimeRecovery="false", DeletionProtection="false")
    if spec.key == "payment_fn":
        bucket, key = _upload_code(target, args)
        values.update(CodeS3Bucket=bucket, CodeS3Key=key)
        if target.env is Env.LOCAL:
            values["DynamoDbEndpoint"] = target.moto_url
            # one local process per batch in flight: bounded on a laptop
            values["MaximumConcurrency"] = LOCAL_MAX_CONCURRENCY
    if "ImageTag" in declared and "ImageTag" not in overrides:
        tag = os.environ.get("IMAGE_TAG")
        if not tag:
            raise UsageError(f"{spec.key} needs an image tag: --param ImageTag=... or IMAGE_TAG")
        values["ImageTag"] = tag
    values.update({k: v for k, v in overrides.items() if k in declared})
    return values


def _upload_code(target: Target, args: argparse.Namespace) -> tuple[str, str]:
    zip_path = Path(args.code)
    if not zip_path.is_file():
        raise UsageError(f"{zip_path} not found: build it with scripts/package_payment_fn.py")
    local = target.env is Env.LOCAL
    bucket = args.artifacts_bucket or artifacts.default_bucket(
        args.env_name, target.account_id(), target.region, local
    )
    s3 = target.s3()
    artifacts.ensure_bucket(s3, bucket, target.region, private=not local)
    key = artifacts.upload_code(s3, bucket, zip_path)
    print(f"payment_fn code: s3://{bucket}/{key}")
    return bucket, key


def _lint(spec: StackSpec, body: str | None = None) -> bool:
    """cfn-lint and the least-privilege check; informational findings do not block."""
    body = body or spec.render()
    findings = lint_template(spec.key, body)
    for finding in findings:
        print(finding, file=sys.stderr)
    overbroad = policy_check.violations(json.loads(body))
    for problem in overbroad:
        print(f"{spec.key}: IAM {problem}", file=sys.stderr)
    ok = not overbroad and all(f.level == "Informational" for f in findings)
    if ok:
        print(f"{spec.key}: cfn-lint and IAM check clean")
    return ok


# argument handling --------------------------------------------------------------------------------
def _parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--param wants KEY=VALUE, got {pair!r}")
        params[key] = value
    return params


def _spec(key: str) -> StackSpec:
    try:
        return registry.get(key)
    except KeyError as error:
        raise UsageError(str(error.args[0])) from None


def _target(args: argparse.Namespace) -> Target:
    return Target.from_environ(Env(args.env))


def _waiter(args: argparse.Namespace) -> Waiter:
    return Waiter(timeout=args.timeout or TIMEOUTS[Env(args.env)], interval=args.poll_interval)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flashsale_stacks",
        description="Generate, validate and deploy the flash-sale CloudFormation stacks.",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    templates = sub.add_parser("templates", help="write every template as JSON")
    templates.add_argument("--out", default=str(DEFAULT_TEMPLATES), help="output folder")
    templates.set_defaults(handler=cmd_templates)

    validate = sub.add_parser("validate", help="cfn-lint and the IAM least-privilege check")
    validate.add_argument("stacks", nargs="*", help="stacks (default: all)")
    validate.set_defaults(handler=cmd_validate)

    def target_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--env", choices=[e.value for e in Env], default=Env.LOCAL.value)
        p.add_argument(
            "--env-name",
            default=os.environ.get("ENV_NAME") or "local",
            help="resource name prefix (default: $ENV_NAME or 'local')",
        )
        p.add_argument("--timeout", type=float, help="seconds to wait for a stack operation")
        p.add_argument("--poll-interval", type=float, default=1.0, help=argparse.SUPPRESS)

    def deploy_options(p: argparse.ArgumentParser) -> None:
        target_options(p)
        p.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="template parameter (repeatable; applies to every stack declaring it)",
        )
        p.add_argument("--code", default=str(DEFAULT_ZIP), help="the payment_fn zip")
        p.add_argument("--artifacts-bucket", help="bucket for the payment_fn zip")

    stacks = ", ".join(registry.BY_KEY)
    deploy = sub.add_parser("deploy", help="deploy one stack through a change set")
    deploy.add_argument("stack", help=f"one of: {stacks}")
    deploy_options(deploy)
    deploy.set_defaults(handler=cmd_deploy)

    deploy_all = sub.add_parser("deploy-all", help="deploy every stack in dependency order")
    deploy_options(deploy_all)
    deploy_all.set_defaults(handler=cmd_deploy_all)

    deploy_local = sub.add_parser(
        "deploy-local", help="package payment_fn, deploy data + messaging + payment_fn locally"
    )
    deploy_options(deploy_local)
    deploy_local.set_defaults(handler=cmd_deploy_local)

    delete = sub.add_parser("delete", help="delete one stack and wait")
    delete.add_argument("stack", help=f"one of: {stacks}")
    target_options(delete)
    delete.set_defaults(handler=cmd_delete)

    outputs = sub.add_parser("outputs", help="print a deployed stack's outputs")
    outputs.add_argument("stack", help=f"one of: {stacks}")
    target_options(outputs)
    outputs.set_defaults(handler=cmd_outputs)
    return parser
