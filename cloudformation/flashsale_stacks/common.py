"""Building blocks every stack template uses: the EnvName parameter, names, exports, ARNs."""

from __future__ import annotations

from typing import Any, TypeVar

from troposphere import (
    AWSObject,
    Export,
    ImportValue,
    Output,
    Parameter,
    Split,
    Sub,
    Tags,
    Template,
)

ENV_PARAM = "EnvName"
ENV_PATTERN = "^[a-z][a-z0-9-]{0,19}$"


def new_template(description: str) -> Template:
    """A template with the EnvName parameter every name and export is prefixed with."""
    template = Template(Description=description)
    template.set_version("2010-09-09")
    template.add_parameter(
        Parameter(
            ENV_PARAM,
            Type="String",
            Default="local",
            AllowedPattern=ENV_PATTERN,
            Description="Environment name, the prefix of every resource name and export",
        )
    )
    return template


def add_parameter(template: Template, name: str, description: str, **props: Any) -> Parameter:
    """A parameter with a description; `Type` defaults to String."""
    props.setdefault("Type", "String")
    return template.add_parameter(Parameter(name, Description=description, **props))


def add_number(
    template: Template,
    name: str,
    description: str,
    default: int | str,
    minimum: int | str | None = None,
    maximum: int | str | None = None,
) -> Parameter:
    """A Number parameter, bounded where `minimum`/`maximum` are given."""
    bounds = {"MinValue": minimum, "MaxValue": maximum}
    props = {key: str(bound) for key, bound in bounds.items() if bound is not None}
    return add_parameter(template, name, description, Type="Number", Default=str(default), **props)


def add_retention(template: Template, what: str) -> Parameter:
    """`LogRetentionDays`: the days `what`'s logs are kept (values CloudWatch accepts)."""
    return add_parameter(
        template,
        "LogRetentionDays",
        f"Days {what}'s logs are kept",
        Type="Number",
        Default="14",
        AllowedValues=["1", "3", "5", "7", "14", "30", "60", "90"],
    )


def name(suffix: str) -> Sub:
    """The physical name `{EnvName}-{suffix}`."""
    return Sub(f"${{{ENV_PARAM}}}-{suffix}")


def export_name(key: str) -> Sub:
    return Sub(f"${{{ENV_PARAM}}}-{key}")


def import_value(key: str) -> ImportValue:
    """A value another stack of the same environment exported under `{EnvName}-{key}`."""
    return ImportValue(export_name(key))


def import_list(key: str) -> Split:
    """A comma-separated export (e.g. subnet ids) as a list."""
    return Split(",", import_value(key))


def add_output(
    template: Template, logical_id: str, value: Any, description: str, export: str | None = None
) -> Output:
    """An output, exported as `{EnvName}-{export}` when `export` is given."""
    output = Output(logical_id, Description=description, Value=value)
    if export is not None:
        output.Export = Export(export_name(export))
    return template.add_output(output)


def arn(service: str, resource: str, *, regional: bool = True, account: bool = True) -> Sub:
    """An ARN in this partition/region/account; `resource` may use ${EnvName}."""
    region = "${AWS::Region}" if regional else ""
    account_id = "${AWS::AccountId}" if account else ""
    return Sub(f"arn:${{AWS::Partition}}:{service}:{region}:{account_id}:{resource}")


def table_arn(table: str) -> Sub:
    return arn("dynamodb", f"table/${{{ENV_PARAM}}}-{table}")


def table_index_arn(table: str) -> Sub:
    return arn("dynamodb", f"table/${{{ENV_PARAM}}}-{table}/index/*")


def queue_arn(queue: str) -> Sub:
    return arn("sqs", f"${{{ENV_PARAM}}}-{queue}")


def log_group_arn(log_group_name: str) -> Sub:
    """The ARN of a log group and its streams (`log_group_name` may use ${EnvName})."""
    return arn("logs", f"log-group:{log_group_name}:*")


R = TypeVar("R", bound=AWSObject)


def disposable(resource: R) -> R:
    """Explicitly deleted with its stack and on replacement: data that can be rebuilt or drained."""
    resource.DeletionPolicy = "Delete"
    resource.UpdateReplacePolicy = "Delete"
    return resource


def tags(component: str) -> Tags:
    """Tags for taggable resources (the deploy tool also tags whole stacks)."""
    return Tags(Project="flashsale", Environment=Sub(f"${{{ENV_PARAM}}}"), Component=component)


#: Why a checkov check does not apply, once per reason (written into each resource's Metadata).
LOG_GROUP_NOT_KMS = (
    "CloudWatch Logs encrypts every log group at rest already; a customer key adds a key policy "
    "for logs.<region>.amazonaws.com and cost, and these logs hold no card or secret data"
)

SQS_MANAGED_SSE = {
    "CKV_AWS_27": "encrypted at rest with SQS-owned keys (SqsManagedSseEnabled); checkov only "
    "recognises KmsMasterKeyId"
}


def checkov_skip(resource: R, reasons: dict[str, str]) -> R:
    """Record in the template why checkov's `reasons` checks are skipped for `resource`."""
    skips = [{"id": check, "comment": reason} for check, reason in sorted(reasons.items())]
    metadata = getattr(resource, "Metadata", None) or {}
    metadata.setdefault("checkov", {}).setdefault("skip", []).extend(skips)
    resource.Metadata = metadata
    return resource
