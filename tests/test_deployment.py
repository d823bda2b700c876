"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

The compose file is validated against the Compose Specification's JSON schema (as vendored
by check-jsonschema), and its process services are held to the Procfile: the one list of
the shop's process types, also what `make demo` runs.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devstack import procfile

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
INFRASTRUCTURE = {"kafka", "postgres", "redis", "init"}
# Services of a profile (`docker compose --profile observability up`): operators' tools,
# started only when asked for.
OPTIONAL = {name for name, service in SERVICES.items() if service.get("profiles")}


def test_the_compose_file_follows_the_compose_specification():
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "version" not in COMPOSE


def test_every_process_type_is_a_service_running_exactly_its_procfile_line():
    types = procfile.process_types()
    app_services = set(SERVICES) - INFRASTRUCTURE - OPTIONAL

    assert app_services == set(types)
    for name in types:
        assert SERVICES[name]["command"] == ["python", "-m", "devstack", "run", name]


def test_kafka_is_apache_kafka_in_kraft_mode_pinned_to_a_release():
    kafka = SERVICES["kafka"]
    image, _, tag = kafka["image"].partition(":")
    assert image == "apache/kafka"
    assert tag.count(".") == 2 and tag != "latest"
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]


# Each server's health check runs a tool its own image ships.
SERVER_TOOLS = {
    "kafka": "/opt/kafka/bin/kafka-broker-api-versions.sh",
    "postgres": "pg_isready",
    "redis": "redis-cli",
    "jaeger": "wget",
    "prometheus": "wget",
    "grafana": "wget",
    "otel-collector": "/otelcol-contrib validate",
}


def one_shots() -> set[str]:
    """Services that run to completion: the others wait for that, not for their health."""
    return {name for name, service in SERVICES.items() if service.get("restart") == "no"}


def test_one_shots_are_awaited_to_completion_and_have_no_health_to_check():
    assert one_shots() == {"init"}
    for name in one_shots():
        assert SERVICES[name]["healthcheck"] == {"disable": True}
        assert SERVICES["web"]["depends_on"][name]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", sorted(set(SERVICES) - one_shots()))
def test_every_service_reports_its_health(name):
    check = SERVICES[name]["healthcheck"]
    test = check["test"]
    assert test[0] in {"CMD", "CMD-SHELL"} and not check.get("disable")
    command = " ".join(test[1:])
    if name in SERVER_TOOLS:
        assert command.startswith(SERVER_TOOLS[name])
    elif name == "web":
        assert "/health/live/" in command
    else:
        # The process type's own heartbeat: worker-<group> is a worker.
        kind = name.split("-")[0]
        assert test == ["CMD", "python", "manage.py", "healthcheck", kind]


def test_the_health_check_command_knows_every_kind_the_compose_file_asks_for():
    from messaging.models import Heartbeat

    command = ["CMD", "python", "manage.py", "healthcheck"]
    tests = [service.get("healthcheck", {}).get("test", []) for service in SERVICES.values()]
    asked = {test[4] for test in tests if test[:4] == command}
    assert asked == {"relay", "worker", "scheduler"} <= set(Heartbeat.Kind.values)


@pytest.mark.parametrize("name", sorted(set(SERVICES) - INFRASTRUCTURE - OPTIONAL))
def test_processes_start_after_setup_and_healthy_servers(name):
    depends = SERVICES[name]["depends_on"]
    assert depends["init"]["condition"] == "service_completed_successfully"
    for server in ("postgres", "redis", "kafka"):
        assert depends[server]["condition"] == "service_healthy"


def test_process_services_can_be_scaled():
    for name in set(SERVICES) - INFRASTRUCTURE - OPTIONAL - {"web"}:
        assert "container_name" not in SERVICES[name] and "ports" not in SERVICES[name]


def test_the_observability_profile_sends_traces_through_a_collector_to_jaeger():
    collector, jaeger = SERVICES["otel-collector"], SERVICES["jaeger"]
    [mount] = collector["volumes"]
    source, target, _ = mount.split(":")
    config = yaml.safe_load((ROOT / source).read_text())
    pipeline = config["service"]["pipelines"]["traces"]
    [exporter] = pipeline["exporters"]

    for service in (collector, jaeger):
        assert service["profiles"] == ["observability"]
        assert not service["image"].endswith(":latest") and ":" in service["image"]
    assert collector["command"] == [f"--config={target}"]
    assert pipeline["receivers"] == ["otlp"]
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    assert "4318:4318" in collector["ports"]  # for a `make demo` on the host
    assert config["exporters"][exporter]["endpoint"] == "jaeger:4317"  # Jaeger's OTLP port
    assert "16686:16686" in jaeger["ports"]  # its UI


def test_the_observability_profile_scrapes_every_process_into_prometheus_and_grafana():
    prometheus, grafana = SERVICES["prometheus"], SERVICES["grafana"]
    for service in (prometheus, grafana):
        assert service["profiles"] == ["observability"]
        assert not service["image"].endswith(":latest") and ":" in service["image"]
    mounts = {m.split(":")[1]: ROOT / m.split(":")[0] for m in prometheus["volumes"]}
    config = yaml.safe_load(mounts["/etc/prometheus/prometheus.yml"].read_text())
    assert all(Path(rule) in map(Path, mounts) for rule in config["rule_files"])
    scraped = {}
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            scraped |= {t.split(":")[0]: int(t.split(":")[1]) for t in static["targets"]}
        for dns in job.get("dns_sd_configs", []):
            scraped |= dict.fromkeys(dns["names"], dns["port"])
    counting = {name for name in procfile.process_types() if name != "scheduler"}
    assert set(scraped) == counting
    environment = COMPOSE["x-app"]["environment"]
    assert all(
        port == int(environment["METRICS_PORT"]) for n, port in scraped.items() if n != "web"
    )
    assert scraped["web"] == int(SERVICES["web"]["environment"]["PORT"])
    for mount in grafana["volumes"]:
        assert (ROOT / mount.split(":")[0]).is_dir()


def test_traces_are_off_unless_an_endpoint_is_given():
    """Without the profile there is no collector to send to: the processes send nothing
    (messaging.telemetry) rather than fail to reach one."""
    for name in set(SERVICES) - INFRASTRUCTURE - OPTIONAL | {"init"}:
        environment = SERVICES[name]["environment"]
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${OTEL_EXPORTER_OTLP_ENDPOINT:-}"


def test_traces_have_no_span_per_query_unless_asked_for():
    """A span per SQL query made a handling cost +23% CPU against +5% without (issue #16);
    set empty on the host (`-`, not `:-`), the variable brings them back."""
    for name in set(SERVICES) - INFRASTRUCTURE - OPTIONAL | {"init"}:
        environment = SERVICES[name]["environment"]
        assert environment["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"] == (
            "${OTEL_PYTHON_DISABLED_INSTRUMENTATIONS-psycopg}"
        )


def test_the_image_is_multi_stage_slim_and_runs_as_a_user():
    lines = [ln.split() for ln in (ROOT / "Dockerfile").read_text().splitlines() if ln.strip()]
    stages = [ln[1] for ln in lines if ln[0] == "FROM"]
    assert len(stages) == 2 and all(s.endswith("-slim") for s in stages)
    users = [ln[1] for ln in lines if ln[0] == "USER"]
    assert users and users[-1] not in {"root", "0"}


def test_run_execs_the_procfile_line(monkeypatch):
    calls = []
    monkeypatch.setattr(procfile.os, "execvp", lambda *args: calls.append(args))
    monkeypatch.setattr(procfile.os, "chdir", lambda path: None)

    procfile.exec_process("relay")

    assert calls == [("/bin/sh", ["/bin/sh", "-c", "exec python manage.py run_relay"])]


def test_run_refuses_an_unknown_process_type():
    with pytest.raises(procfile.DevstackError, match="No process type 'nope'"):
        procfile.exec_process("nope")
