"""compose.yaml: valid by the Compose Specification's JSON schema (the copy check-jsonschema
ships, vendor/compose-spec.json), with the shape of `make stack`: nginx in front of two
Tasklane instances, the worker, PgBouncer, PostgreSQL and Redis, each waiting for what it
needs to be healthy, and readiness checked on /readyz."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web1", "web2", "worker")


def _schema() -> dict:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text())


def _errors(document: dict) -> list[str]:
    schema = _schema()
    validator = jsonschema.validators.validator_for(schema)(
        schema, format_checker=jsonschema.FormatChecker()
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def compose() -> dict:
    # YAML 1.2 with merge keys (<<: *tasklane), as Compose reads it.
    return YAML(typ="safe").load((ROOT / "compose.yaml").read_text())


def test_compose_file_is_valid_by_the_compose_specification(compose):
    assert _errors(compose) == []


def test_the_schema_check_refuses_a_broken_file(compose):
    """The validation above can fail: a wrong condition and an unknown key are caught."""
    broken = copy.deepcopy(compose)
    broken["services"]["web1"]["depends_on"]["redis"]["condition"] = "service_ready"
    broken["services"]["nginx"]["healthchek"] = {"test": ["CMD", "true"]}
    errors = _errors(broken)
    assert any("service_ready" in e for e in errors), errors
    assert any("healthchek" in e for e in errors), errors


def test_the_shape_is_make_stacks(compose):
    services = compose["services"]
    assert {"nginx", "web1", "web2", "worker", "pgbouncer", "postgres", "redis"} <= set(services)
    web = [services["web1"], services["web2"]]
    # Two instances of one image, told apart in logs and the X-Instance header.
    assert web[0]["image"] == web[1]["image"] == services["worker"]["image"]
    assert {w["environment"]["INSTANCE_NAME"] for w in web} == {"web1", "web2"}
    for service in web:
        env = service["environment"]
        assert "@pgbouncer:" in env["DATABASE_URL"], "instances reach PostgreSQL via PgBouncer"
        assert env["RATELIMIT_STORAGE_URI"].startswith("redis://redis")
        assert env["QUEUE_URL"].startswith("redis://redis")
        assert env["TRUSTED_PROXIES"] == "1"
        assert "/readyz" in " ".join(service["healthcheck"]["test"])
    assert services["worker"]["command"] == ["python", "-m", "app.jobs.worker"]
    assert services["worker"]["environment"]["QUEUE_URL"] == web[0]["environment"]["QUEUE_URL"]
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"


def test_each_service_waits_for_what_it_needs_to_be_healthy(compose):
    services = compose["services"]
    needs = {
        "nginx": {"web1", "web2"},
        "web1": {"pgbouncer", "redis"},
        "web2": {"pgbouncer", "redis"},
        "worker": {"pgbouncer", "redis"},
        "pgbouncer": {"postgres"},
    }
    for name, wanted in needs.items():
        depends = services[name]["depends_on"]
        for dependency in wanted:
            assert depends[dependency]["condition"] == "service_healthy", (name, dependency)
            check = services[dependency]["healthcheck"]
            assert check["test"] and not check.get("disable"), dependency
    for name in APP_SERVICES:  # migrations ran (once, straight to PostgreSQL) before any app
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert "@postgres:" in services["migrate"]["environment"]["DATABASE_URL"]


def test_nginx_config_is_mounted_and_names_both_instances(compose, tmp_path):
    (volume,) = compose["services"]["nginx"]["volumes"]
    source, target, _mode = volume.split(":")
    config = (ROOT / source).read_text()
    assert target == "/etc/nginx/conf.d/default.conf"
    assert "server web1:8000" in config and "server web2:8000" in config
    assert "proxy_set_header X-Request-ID $request_id" in config
    nginx = shutil.which("nginx")
    if nginx is None:
        return  # the syntax check below needs Debian's nginx (make stack installs it)
    # nginx -t resolves upstream names: the services' names stand for loopback here.
    local = config.replace("web1:8000", "127.0.0.1:8001").replace("web2:8000", "127.0.0.1:8002")
    (tmp_path / "default.conf").write_text(local)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{ include {tmp_path}/default.conf; }}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
