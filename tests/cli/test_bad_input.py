"""Each kind of bad input gets one line on stderr, its exit code, and no traceback."""

from __future__ import annotations

import sqlite3

import pytest

from pyworkflow.exceptions import BackendError


def one_line_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    return lines[0]


def test_missing_config_file(invoke):
    result = invoke("process", "list", "--config", "nowhere.yaml")
    assert result.exit_code == 2
    assert "nowhere.yaml" in one_line_error(result)
    assert "not found" in result.stderr


def test_missing_config_file_named_by_environment(invoke, monkeypatch):
    monkeypatch.setenv("PYWORKFLOW_CONFIG", "from-env.yaml")
    result = invoke("process", "list")
    assert result.exit_code == 2
    assert "from-env.yaml" in one_line_error(result)
    assert "$PYWORKFLOW_CONFIG" in result.stderr


def test_yaml_syntax_error_names_file_and_line(invoke, write):
    path = write("broken.yaml", "backend:\n  type: memory\nworkflows: [unclosed\n")
    result = invoke("config", "check", "--config", path)
    assert result.exit_code == 2
    message = one_line_error(result)
    assert path in message
    assert "YAML syntax error" in message
    assert "line " in message


def test_unknown_backend_type_lists_the_known_ones(invoke, write):
    path = write("bad.yaml", "backend:\n  type: mysql\n")
    result = invoke("config", "check", "--config", path)
    assert result.exit_code == 2
    message = one_line_error(result)
    assert "backend.type" in message
    assert "memory, sqlite, postgres, amazonswf" in message
    assert "'mysql'" in message


def test_unknown_key_is_an_error(invoke, write):
    path = write("typo.yaml", "backend:\n  type: sqlite\n  pth: x.db\n")
    result = invoke("config", "check", "--config", path)
    assert result.exit_code == 2
    assert "backend.pth: unknown key" in one_line_error(result)


def test_missing_workflow_module(invoke, write):
    path = write("cfg.yaml", "backend: {type: memory}\nworkflows: [no_such_module.flows]\n")
    result = invoke("config", "check", "--config", path)
    assert result.exit_code == 2
    message = one_line_error(result)
    assert "workflows[0]" in message
    assert "no_such_module" in message


def test_module_that_fails_to_import_names_the_missing_dependency(invoke, write):
    write("flows_needing_x.py", "import not_installed_thing\n")
    path = write("cfg.yaml", "backend: {type: memory}\nworkflows: [flows_needing_x]\n")
    result = invoke("config", "check", "--config", path)
    assert result.exit_code == 2
    assert "importing 'flows_needing_x' failed" in one_line_error(result)
    assert "not_installed_thing" in result.stderr


def test_module_with_no_workflows(invoke, write):
    write("plain_module.py", "VALUE = 1\n")
    path = write("cfg.yaml", "backend: {type: memory}\nworkflows: [plain_module]\n")
    result = invoke("config", "check", "--config", path)
    assert result.exit_code == 2
    assert "defines no Workflow subclass" in one_line_error(result)


def test_unknown_class_in_module(invoke, write):
    path = write(
        "cfg.yaml",
        "backend: {type: memory}\nworkflows: ['pyworkflow.examples.multiplication:Bar']\n",
    )
    result = invoke("config", "check", "--config", path)
    assert result.exit_code == 2
    assert "no Workflow subclass named 'Bar'" in one_line_error(result)


def test_unknown_workflow_name_lists_the_known_ones(invoke, memory_config):
    result = invoke("process", "start", "Bar", "--config", memory_config)
    assert result.exit_code == 2
    message = one_line_error(result)
    assert "unknown workflow 'Bar'" in message
    assert "Foo" in message and "Gated" in message


def test_input_that_is_not_json(invoke, memory_config, shared_backend):
    result = invoke("process", "start", "Foo", "--input", "[3,4", "--config", memory_config)
    assert result.exit_code == 2
    assert "--input is not JSON" in one_line_error(result)
    assert shared_backend.processes(status="all") == []


def test_bare_word_input_hints_at_quoting(invoke, memory_config):
    result = invoke("process", "start", "Foo", "--input", "hello", "--config", memory_config)
    assert result.exit_code == 2
    assert "quote strings" in one_line_error(result)


@pytest.mark.parametrize(
    "command, option",
    [
        (("process", "signal", "p-1", "approve"), "--data"),
        (("process", "cancel", "p-1"), "--details"),
    ],
)
def test_quoting_hint_names_the_option_given(invoke, memory_config, command, option):
    result = invoke(*command, option, "{bad", "--config", memory_config)
    assert result.exit_code == 2
    message = one_line_error(result)
    assert message.startswith(f"Error: {option} is not JSON")
    assert f"(quote strings: {option} '\"text\"')" in message


@pytest.mark.parametrize("command", ["start", "run"])
def test_empty_tag_is_a_usage_error(invoke, memory_config, command):
    result = invoke("process", command, "Foo", "--tag", " ", "--config", memory_config)
    assert result.exit_code == 2
    assert "--tag" in result.stderr and "must not be empty" in result.stderr


def test_workflow_module_that_exits_while_imported(invoke, write):
    write("quitting.py", "import sys\nsys.exit(3)\n")
    config = write("cfg.yaml", "backend: {type: memory}\nworkflows: [quitting]\n")
    result = invoke("config", "check", "--config", config)
    assert result.exit_code == 2
    assert "importing 'quitting' failed: SystemExit: 3" in one_line_error(result)


def test_input_file_that_does_not_exist(invoke, memory_config):
    result = invoke("process", "start", "Foo", "--input", "@missing.json", "-c", memory_config)
    assert result.exit_code == 2
    assert "cannot read 'missing.json'" in one_line_error(result)


def test_unknown_process_id(invoke, memory_config):
    for command in (["show"], ["wait"], ["cancel"], ["signal"]):
        args = ["process", *command, "no-such-id"] + (["go"] if command == ["signal"] else [])
        result = invoke(*args, "--config", memory_config)
        assert result.exit_code == 3, command
        assert "no process with id 'no-such-id'" in one_line_error(result)


def test_signal_to_a_closed_process(invoke, memory_config, shared_backend):
    started = invoke("process", "start", "Foo", "--input", "[3,4]", "-c", memory_config)
    process_id = started.stdout.strip()
    assert invoke("process", "cancel", process_id, "-c", memory_config).exit_code == 0
    result = invoke("process", "signal", process_id, "go", "-c", memory_config)
    assert result.exit_code == 2
    assert "is closed" in one_line_error(result)


def test_process_id_already_open(invoke, memory_config, shared_backend):
    first = invoke("process", "start", "Foo", "--id", "order-1", "-c", memory_config)
    assert first.exit_code == 0
    again = invoke("process", "start", "Foo", "--id", "order-1", "-c", memory_config)
    assert again.exit_code == 2
    assert "already open" in one_line_error(again)


@pytest.mark.parametrize(
    "error",
    [sqlite3.OperationalError("unable to open database file"), BackendError("connection refused")],
)
def test_backend_that_cannot_be_opened(invoke, memory_config, monkeypatch, error):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr("pyworkflow.backend.memory.MemoryBackend.__init__", refuse)
    result = invoke("process", "list", "--config", memory_config)
    assert result.exit_code == 4
    assert str(error) in one_line_error(result)


def test_sqlite_database_that_cannot_be_opened(invoke, write, tmp_path):
    pytest.importorskip("pyworkflow.backend.sqlite")
    (tmp_path / "a-file").write_text("not a directory")
    path = write("cfg.yaml", f"backend:\n  type: sqlite\n  path: {tmp_path}/a-file/x.db\n")
    result = invoke("process", "list", "--config", path)
    assert result.exit_code == 2
    assert "Error: " in one_line_error(result)


WORKFLOWS = "workflows: [pyworkflow.examples.multiplication]\n"


def _newer_schema(path):
    from pyworkflow.backend.sqlite import SQLiteBackend

    SQLiteBackend(path).close()
    connection = sqlite3.connect(path)
    connection.execute("UPDATE pyworkflow_schema SET version = version + 1")
    connection.commit()
    connection.close()


@pytest.mark.parametrize("command", [("config", "check"), ("worker", "activity")])
@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda path: path.mkdir(), "is a directory"),
        (lambda path: path.write_text("print('hello')\n"), "not a SQLite database"),
        (_newer_schema, "newer than this pyworkflow understands"),
    ],
)
def test_sqlite_path_that_can_never_work_is_a_config_error(
    invoke, write, tmp_path, command, make, expected
):
    """Exit 2, which the systemd units do not restart, not 4 (retry later)."""
    make(tmp_path / "db")
    path = write("cfg.yaml", f"backend: {{type: sqlite, path: {tmp_path}/db}}\n" + WORKFLOWS)
    result = invoke(*command, "--config", path)
    assert result.exit_code == 2
    message = one_line_error(result)
    assert expected in message
    assert "unreachable" not in message


def test_sqlite_busy_stays_backend_unreachable(invoke, memory_config, monkeypatch):
    from pyworkflow.exceptions import BackendBusyError

    def busy(*args, **kwargs):
        raise BackendBusyError("x.db: database stayed locked for over 10s")

    monkeypatch.setattr("pyworkflow.backend.memory.MemoryBackend.__init__", busy)
    result = invoke("process", "list", "--config", memory_config)
    assert result.exit_code == 4
    assert "locked" in one_line_error(result)


def test_backend_module_not_installed_is_a_config_error(invoke, write, monkeypatch):
    monkeypatch.setitem(
        __import__("pyworkflow_cli.backends").backends.BACKEND_CLASSES,
        "postgres",
        ("pyworkflow.backend.not_landed_yet", "PostgresBackend", "postgres"),
    )
    path = write("pg.yaml", "backend:\n  type: postgres\n  dsn: postgresql://x\n")
    result = invoke("process", "list", "--config", path)
    assert result.exit_code == 2
    assert "backend type 'postgres' is not available" in one_line_error(result)


def test_missing_driver_suggests_the_extra(invoke, write, monkeypatch):
    import pyworkflow_cli.backends as backends

    def missing_driver(name):
        raise ModuleNotFoundError("No module named 'psycopg'", name="psycopg")

    monkeypatch.setattr(backends.importlib, "import_module", missing_driver)
    path = write("pg.yaml", "backend:\n  type: postgres\n  dsn: postgresql://x\n")
    result = invoke("process", "list", "--config", path)
    assert result.exit_code == 2
    assert "pip install 'pyworkflow[postgres]'" in one_line_error(result)


def test_secret_from_environment_never_reaches_the_error(invoke, write, monkeypatch):
    monkeypatch.setenv("PG_PASSWORD", "hunter2-secret")
    monkeypatch.setitem(
        __import__("pyworkflow_cli.backends").backends.BACKEND_CLASSES,
        "postgres",
        ("pyworkflow.backend.memory", "MemoryBackend", None),
    )

    def refuse(self, dsn):
        raise BackendError(f"cannot connect to {dsn}")

    monkeypatch.setattr("pyworkflow.backend.memory.MemoryBackend.__init__", refuse)
    path = write(
        "pg.yaml", "backend:\n  type: postgres\n  dsn: postgresql://app:${PG_PASSWORD}@db/app\n"
    )
    result = invoke("process", "list", "--config", path)
    assert result.exit_code == 4
    message = one_line_error(result)
    assert "hunter2-secret" not in result.output
    assert "postgresql://app:***@db/app" in message


def test_missing_environment_variable_names_it(invoke, write):
    path = write("pg.yaml", "backend:\n  type: postgres\n  dsn: ${PYWORKFLOW_TEST_UNSET_DSN}\n")
    result = invoke("config", "check", "--config", path)
    assert result.exit_code == 2
    assert "backend.dsn: environment variable PYWORKFLOW_TEST_UNSET_DSN is not set" in (
        one_line_error(result)
    )


def test_unknown_status_is_a_usage_error(invoke, memory_config):
    result = invoke("process", "list", "--status", "finished", "-c", memory_config)
    assert result.exit_code == 2
    assert "--status" in result.stderr


def test_debug_shows_the_traceback(invoke, memory_config):
    result = invoke("process", "show", "no-such-id", "--config", memory_config, "--debug")
    assert result.exit_code == 3
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "Error: no process with id 'no-such-id'"


def test_bug_is_reported_in_one_line_with_its_own_exit_code(invoke, memory_config, monkeypatch):
    def broken(self, process_id):
        raise RuntimeError("something broke")

    monkeypatch.setattr("pyworkflow.manager.Manager.process_runs", broken)
    result = invoke("process", "show", "x", "--config", memory_config)
    assert result.exit_code == 70
    assert "RuntimeError: something broke" in one_line_error(result)


def test_worker_with_no_workflows_configured(invoke, write):
    path = write("empty.yaml", "backend: {type: memory}\n")
    result = invoke("worker", "activity", "--config", path, "--exit-when-idle")
    assert result.exit_code == 2
    assert "no workflows configured" in one_line_error(result)


def test_valid_config_passes_the_check(invoke, memory_config):
    result = invoke("config", "check", "--config", memory_config)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_unknown_example_config(invoke):
    result = invoke("config", "example", "nothing-like-it")
    assert result.exit_code == 3
    assert "bundled: multiplication" in one_line_error(result)


def test_config_check_without_connecting_still_finds_a_missing_backend(invoke, write, monkeypatch):
    monkeypatch.setitem(
        __import__("pyworkflow_cli.backends").backends.BACKEND_CLASSES,
        "sqlite",
        ("pyworkflow.backend.not_landed_yet", "SQLiteBackend", None),
    )
    path = write("cfg.yaml", "backend: {type: sqlite}\n")
    result = invoke("config", "check", "--no-connect", "--config", path)
    assert result.exit_code == 2
    assert "backend type 'sqlite' is not available" in one_line_error(result)


def test_bug_with_debug_shows_the_traceback_and_keeps_its_exit_code(
    invoke, memory_config, monkeypatch
):
    def broken(self, process_id):
        raise RuntimeError("something broke")

    monkeypatch.setattr("pyworkflow.manager.Manager.process_runs", broken)
    result = invoke("process", "show", "x", "--config", memory_config, "--debug")
    assert result.exit_code == 70
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: RuntimeError: something broke")
