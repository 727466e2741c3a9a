"""docker-compose.localstack.yml cannot run here (no Docker engine); check what can be checked."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from localaws.compose import DEFAULT_LOCALSTACK_TAG
from localaws.config import LOCALSTACK_SERVICES, PlatformConfig

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.localstack.yml"
SPEC = yaml.safe_load(COMPOSE.read_text())
DEFAULTS = PlatformConfig.from_env({})


def test_services_and_required_keys():
    assert set(SPEC["services"]) == {"localstack", "moto", "xray-relay"}
    for name, service in SPEC["services"].items():
        assert "image" in service, name
        assert service["ports"], name


def test_localstack_tag_is_pinned_and_overridable_and_the_token_passes_through():
    image = SPEC["services"]["localstack"]["image"]
    assert image == f"localstack/localstack:${{LOCALSTACK_VERSION:-{DEFAULT_LOCALSTACK_TAG}}}"
    assert DEFAULT_LOCALSTACK_TAG == "4.14.0"
    env = SPEC["services"]["localstack"]["environment"]
    assert env["LOCALSTACK_AUTH_TOKEN"] == "${LOCALSTACK_AUTH_TOKEN:-}"
    assert env["SERVICES"] == LOCALSTACK_SERVICES


def test_every_port_binds_loopback_on_the_same_defaults_as_host_mode():
    published = {}
    for name, service in SPEC["services"].items():
        for mapping in service["ports"]:
            match = re.fullmatch(r"127\.0\.0\.1:\$\{(\w+):-(\d+)\}:\d+(/\w+)?", mapping)
            assert match, f"{name}: {mapping} must bind 127.0.0.1 with an overridable port"
            published[match.group(1)] = int(match.group(2))
    assert published == {
        "LOCALSTACK_PORT": DEFAULTS.localstack_port,
        "MOTO_PORT": DEFAULTS.moto_port,
        "XRAY_DAEMON_PORT": DEFAULTS.xray_daemon_port,
    }
