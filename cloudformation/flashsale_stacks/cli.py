"""python -m flashsale_stacks templates|validate|deploy|deploy-all|delete|outputs

templates [--out build/templates]          write every template (deterministic JSON)
validate [STACK ...]                       cfn-lint every (or the named) template
scan                                       checkov over every template
access-matrix [--write]                    every role's grants (into cloudformation/README.md)
deploy STACK [--env local|aws] ...         change-set deploy of one stack, prints its outputs
deploy-all [--env local|aws] ...           every stack in order (locally: network, api,
                                           processor, observability on moto's CloudFormation)
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

from flashsale_stacks import (
    access_matrix,
    artifacts,
    emulator_gaps,
    local_infra,
    policy_check,
    preflight,
    registry,
    scan,
)
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


def cmd_scan(args: argparse.Namespace) -> int:
    """checkov over every template: 0 failed checks, and every skip with its reason."""
    try:
        result = scan.scan(registry.render_all())
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    for problem in result.failed:
        print(f"checkov FAILED {problem}", file=sys.stderr)
    for problem in result.unexplained_skips:
        print(f"checkov skip without a reason: {problem}", file=sys.stderr)
    print(
        f"checkov: {result.passed} passed, {len(result.failed)} failed, "
        f"{result.skipped} skipped (each with its reason in the template's Metadata)"
    )
    return 0 if result.ok else 1


def cmd_access_matrix(args: argparse.Namespace) -> int:
    """Print the role x resource x actions table; --write puts it into cloudformation/README.md."""
    table = access_matrix.markdown(access_matrix.all_grants(registry.render_all()))
    if not args.write:
        print(table)
        return 0
    readme = access_matrix.README.read_text()
    access_matrix.README.write_text(access_matrix.with_matrix(readme, table))
    print(f"wrote the access matrix into {access_matrix.README.name}")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    return _deploy([_spec(args.stack)], args)


def cmd_deploy_all(args: argparse.Namespace) -> int:
    return _deploy(list(registry.STACKS), args)


def cmd_deploy_local(args: argparse.Namespace) -> int:
    """What `make up` runs: package the Lambda zip, deploy the stacks the pipeline runs on."""
    args.env = Env.LOCAL.value
    subprocess.run([sys.executable, str(PACKAGER), "--out", args.code], check=True)
    target = Target.from_environ(Env.LOCAL)
    return _deploy([spec for spec in registry.STACKS if target.pipeline(spec)], args)


def cmd_delete(args: argparse.Namespace) -> int:
    spec, target = _spec(args.stack), _target(args)
    cfn, name = target.cloudformation(spec), spec.stack_name(args.env_name)
    vpc_id = outputs_of(describe(cfn, name) or {}).get("VpcId")
    try:
        delete_stack(cfn, name, _waiter(args))
    except ClientError as error:
        moto_leftovers = target.env is Env.LOCAL and vpc_id and "DependencyViolation" in str(error)
        if not moto_leftovers:
            raise
        removed = emulator_gaps.release_vpc(target.moto_client("ec2"), vpc_id)
        print(f"{name}: deleted; moto left {', '.join(removed)}: removed through the EC2 API")
    return 0


def cmd_outputs(args: argparse.Namespace) -> int:
    spec, target = _spec(args.stack), _target(args)
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
    if target.env is Env.AWS:
        given = {"ImageTag": os.environ.get("IMAGE_TAG", ""), **overrides}
        refusal = preflight.aws_refusal(args.env_name, bodies, given)
        if refusal:
            raise UsageError(refusal)

    for spec in specs:
        if not _lint(spec, bodies[spec.key]):
            return 1
        parameters = _parameters(spec, target, args, overrides, declared[spec.key])
        body, change_set = bodies[spec.key], True
        if target.env is Env.LOCAL and spec.local is LocalTarget.MOTO_INFRA:
            if any(registry.get(k).local is LocalTarget.LOCALSTACK for k in spec.imports_from):
                # LocalStack's exports (messaging, payment_fn) as they are now, for moto to import
                local_infra.mirror_exports(
                    target.localstack_cloudformation(),
                    target.cloudformation(spec),
                    args.env_name,
                    _waiter(args),
                )
            body = emulator_gaps.for_moto(body, parameters)
            change_set = False
        result = deploy_stack(
            target.cloudformation(spec),
            spec.stack_name(args.env_name),
            body,
            parameters,
            {"Project": "flashsale", "Environment": args.env_name},
            _waiter(args),
            change_set=change_set,
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
    if target.env is Env.LOCAL:
        values.update({k: v for k, v in preflight.LOCAL_STAND_INS.items() if k in declared})
        if "CertificateArn" in declared:  # the listener needs one moto's ACM knows
            acm = target.moto_client("acm")
            values["CertificateArn"] = local_infra.self_signed_certificate(acm, args.env_name)
    if spec.key == "payment_fn":
        bucket, key = _upload_code(target, args)
        values.update(CodeS3Bucket=bucket, CodeS3Key=key)
        if target.env is Env.LOCAL:
            values["DynamoDbEndpoint"] = target.moto_url
            # one local process per batch in flight: bounded on a laptop
            values["MaximumConcurrency"] = LOCAL_MAX_CONCURRENCY
    if "ImageTag" in declared and "ImageTag" not in overrides:
        tag = os.environ.get("IMAGE_TAG") or values.get("ImageTag")
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

    scan_cmd = sub.add_parser("scan", help="checkov over every template (.venv-checkov)")
    scan_cmd.set_defaults(handler=cmd_scan)

    matrix = sub.add_parser("access-matrix", help="every role's grants, as a Markdown table")
    matrix.add_argument("--write", action="store_true", help="update cloudformation/README.md")
    matrix.set_defaults(handler=cmd_access_matrix)

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
