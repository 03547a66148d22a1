"""Config parsing: defaults, every section, environment variables, and errors
that name the file, the key path and what was expected."""

from __future__ import annotations

import pytest

from pyworkflow_cli.config import (
    BackendConfig,
    Config,
    WorkerDefaults,
    find_config_path,
    load_config,
    parse_config,
)
from pyworkflow_cli.errors import ConfigError

FULL = """\
backend:
  type: amazonswf
  domain: orders
  region: eu-west-1
  endpoint_url: http://localhost:4566
workflows:
  - pyworkflow.examples.multiplication
  - shop.flows:RefundWorkflow
plugins: [shop.signals]
wrappers: [blinker]
logging:
  format: json
  level: WARNING
workers:
  activity:
    category: images
    concurrency: 4
    identity: thumbnailer
    metrics_port: 9101
    metrics_host: 0.0.0.0
  decision:
    category: orders
    metrics_port: 9102
"""


def error_of(text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "cfg.yaml", environ or {})
    return caught.value.message


def test_no_file_means_sqlite_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(None, {})
    assert config == Config()
    assert config.backend == BackendConfig("sqlite", {"path": "pyworkflow.db"})
    assert config.source is None


def test_config_path_precedence():
    assert find_config_path("a.yaml", {"PYWORKFLOW_CONFIG": "b.yaml"}) == ("a.yaml", True)
    assert find_config_path(None, {"PYWORKFLOW_CONFIG": "b.yaml"}) == ("b.yaml", True)
    assert find_config_path(None, {}) == ("pyworkflow.yaml", False)


def test_pyworkflow_yaml_in_the_current_directory_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyworkflow.yaml").write_text("backend: {type: memory}\n")
    assert load_config(None, {}).backend.type == "memory"


def test_empty_file_means_defaults():
    assert parse_config("", "cfg.yaml", {}).backend.type == "sqlite"


def test_every_section():
    config = parse_config(FULL, "cfg.yaml", {})
    assert config.backend == BackendConfig(
        "amazonswf",
        {"domain": "orders", "region": "eu-west-1", "endpoint_url": "http://localhost:4566"},
    )
    assert config.workflows == ("pyworkflow.examples.multiplication", "shop.flows:RefundWorkflow")
    assert config.plugins == ("shop.signals",)
    assert config.wrappers == ("blinker",)
    assert (config.logging.format, config.logging.level) == ("json", "warning")
    assert config.activity_worker == WorkerDefaults("images", 4, "thumbnailer", 9101, "0.0.0.0")
    assert config.decision_worker == WorkerDefaults("orders", 1, None, 9102)


def test_sqlite_path_defaults_when_only_the_type_is_given():
    config = parse_config("backend: {type: sqlite}", "cfg.yaml", {})
    assert config.backend.settings == {"path": "pyworkflow.db"}


def test_environment_variables_are_expanded_and_remembered_as_secrets():
    text = "backend:\n  type: postgres\n  dsn: postgresql://app:${PGPASS}@${PGHOST:-localhost}/db\n"
    config = parse_config(text, "cfg.yaml", {"PGPASS": "s3cret"})
    assert config.secrets == {"s3cret"}
    assert config.backend.settings["dsn"] == "postgresql://app:s3cret@localhost/db"
    assert config.redact("failed: postgresql://app:s3cret@localhost/db") == (
        "failed: postgresql://app:***@localhost/db"
    )


def test_double_dollar_is_a_literal_dollar():
    config = parse_config("backend: {type: sqlite, path: 'cost$$.db'}", "cfg.yaml", {})
    assert config.backend.settings["path"] == "cost$.db"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a list\n", "cfg.yaml: expected a mapping"),
        ("backends: {}\n", "cfg.yaml: backends: unknown key; expected one of backend, workflows"),
        (
            "backend: sqlite\n",
            "cfg.yaml: backend: expected a mapping with a type; got str 'sqlite'",
        ),
        ("backend: {type: memory, path: x}\n", "cfg.yaml: backend.path: unknown key"),
        (
            "backend: {type: postgres}\n",
            "cfg.yaml: backend.dsn: required for backend type postgres",
        ),
        ("backend: {type: amazonswf}\n", "cfg.yaml: backend.domain: required for backend"),
        ("workflows: pyworkflow.examples\n", "cfg.yaml: workflows: expected a list of strings"),
        ("workflows: [{a: b}]\n", "cfg.yaml: workflows[0]: expected a string; got a mapping"),
        ("wrappers: [statsd]\n", "cfg.yaml: wrappers[0]: expected one of blinker; got 'statsd'"),
        (
            "logging: {format: xml}\n",
            "cfg.yaml: logging.format: expected one of auto, json, console",
        ),
        ("logging: {level: loud}\n", "cfg.yaml: logging.level: expected one of debug, info"),
        ("logging: {colour: true}\n", "cfg.yaml: logging.colour: unknown key"),
        (
            "workers: {activity: {concurrency: 0}}\n",
            "workers.activity.concurrency: expected a whole",
        ),
        (
            "workers: {activity: {concurrency: yes}}\n",
            "workers.activity.concurrency: expected a whole",
        ),
        (
            "workers: {decision: {concurrency: 2}}\n",
            "cfg.yaml: workers.decision.concurrency: unknown",
        ),
        ("workers: {activty: {}}\n", "cfg.yaml: workers.activty: unknown key"),
        (
            "workers: {decision: {metrics_port: 70000}}\n",
            "cfg.yaml: workers.decision.metrics_port: expected a port number from 0 to 65535",
        ),
        (
            "workers: {activity: {metrics_port: '9100'}}\n",
            "cfg.yaml: workers.activity.metrics_port: expected a port number",
        ),
        ("backend: {path: 5}\n", "cfg.yaml: backend.path: expected a string; got int 5"),
        (
            "backend: {type: amazonswf, domain: 1.5}\n",
            "cfg.yaml: backend.domain: expected a string; got float 1.5",
        ),
        (
            "backend: {type: postgres, dsn: x, statement_timeout: soon}\n",
            "cfg.yaml: backend.statement_timeout: expected a positive number; got 'soon'",
        ),
        (
            "backend: {type: sqlite, wal_size_limit: 0}\n",
            "cfg.yaml: backend.wal_size_limit: expected a positive number; got 0",
        ),
        ("backend: {type: sqlite, statement_timeout: 5}\n", "backend.statement_timeout: unknown"),
    ],
)
def test_errors_name_file_key_path_and_expectation(text, expected):
    assert expected in error_of(text)


def test_missing_environment_variable():
    message = error_of("backend: {type: postgres, dsn: '${NOPE}'}\n")
    assert message == "cfg.yaml: backend.dsn: environment variable NOPE is not set"


def test_passwords_in_a_dsn_written_in_the_file_are_secrets():
    text = "backend: {type: postgres, dsn: 'postgresql://app:pa55word@db/app'}\n"
    config = parse_config(text, "cfg.yaml", {})
    assert config.redact("postgresql://app:pa55word@db/app") == "postgresql://app:***@db/app"
    keyword = "backend: {type: postgres, dsn: 'host=db user=app password=pa55word'}\n"
    assert parse_config(keyword, "cfg.yaml", {}).secrets == {"pa55word"}


def test_variables_that_are_not_secrets_stay_readable():
    text = "backend: {type: sqlite, path: '${DATA_DIR}/p.db'}\n"
    config = parse_config(text, "cfg.yaml", {"DATA_DIR": "/srv"})
    assert config.secrets == frozenset()
    assert config.redact("cannot open /srv/p.db") == "cannot open /srv/p.db"


def test_check_creates_no_database_at_a_mistyped_path(invoke, write, tmp_path):
    config = write("typo.yaml", f"backend: {{type: sqlite, path: {tmp_path}/sohp.db}}\n")
    result = invoke("config", "check", "-c", config)
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert "reachable" not in result.stdout
    assert not (tmp_path / "sohp.db").exists()


DUPLICATE = """\
from pyworkflow.decision import CompleteProcess
from pyworkflow.workflow import Workflow


class OrderWorkflow(Workflow):
    def decide(self, process):
        return CompleteProcess()
"""


@pytest.mark.parametrize(
    "command",
    [("config", "check", "--no-connect"), ("worker", "decision", "--exit-when-idle")],
)
def test_two_workflow_classes_with_one_name_are_a_config_error(invoke, write, command):
    """A user's mistake, exit 2 (not restarted by the units), never 70."""
    write("orders_eu.py", DUPLICATE)
    write("orders_us.py", DUPLICATE)
    config = write("dup.yaml", "backend: {type: memory}\nworkflows: [orders_eu, orders_us]\n")
    result = invoke(*command, "-c", config)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert "two workflow classes are named 'Order'" in line
    assert "orders_eu.OrderWorkflow and orders_us.OrderWorkflow" in line


def test_timeouts_are_backend_arguments_as_numbers():
    from pyworkflow_cli.backends import _arguments

    config = parse_config(
        "backend:\n  type: postgres\n  dsn: host=db\n  statement_timeout: 2.5\n"
        "  connect_timeout: 3\n  keepalives_idle: 7\n",
        "cfg.yaml",
        {},
    )
    assert _arguments(config.backend) == {
        "dsn": "host=db",
        "statement_timeout": 2.5,
        "connect_timeout": 3.0,
        "keepalives_idle": 7.0,
    }
    sqlite = parse_config("backend: {type: sqlite, wal_size_limit: 1048576}\n", "cfg.yaml", {})
    assert _arguments(sqlite.backend)["wal_size_limit"] == 1048576
