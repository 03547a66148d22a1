"""Worker log records, with their ``extra`` fields, come out as structured lines."""

from __future__ import annotations

import io
import json
import logging

from pyworkflow_cli.logs import configure_logging


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def log_task(**extra):
    logging.getLogger("pyworkflow.worker").info("activity %s", "completed", extra=extra)


def test_json_lines_when_not_on_a_terminal_carry_the_extra_fields():
    stream = io.StringIO()
    configure_logging("auto", "info", stream=stream)
    log_task(
        process_id="p-1", activity="Multiplication", attempt=2, outcome="completed", duration_ms=1.5
    )
    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["event"] == "activity completed"
    assert record["level"] == "info"
    assert record["logger"] == "pyworkflow.worker"
    assert record["process_id"] == "p-1"
    assert record["activity"] == "Multiplication"
    assert record["attempt"] == 2
    assert record["outcome"] == "completed"
    assert record["duration_ms"] == 1.5
    assert record["timestamp"].endswith("Z")


def test_console_on_a_terminal():
    stream = Terminal()
    configure_logging("auto", "info", stream=stream)
    log_task(process_id="p-1", workflow="Foo")
    text = stream.getvalue()
    assert "activity completed" in text
    assert "process_id" in text and "p-1" in text
    assert "\x1b[" in text  # coloured
    assert not text.lstrip().startswith("{")


def test_level_filters_library_logs():
    stream = io.StringIO()
    configure_logging("json", "warning", stream=stream)
    log_task(process_id="p-1")
    logging.getLogger("pyworkflow.worker").warning("activity failed", extra={"process_id": "p-2"})
    assert [json.loads(line)["process_id"] for line in stream.getvalue().splitlines()] == ["p-2"]


def test_secrets_are_masked_in_every_field():
    stream = io.StringIO()
    configure_logging("json", "info", secrets=["hunter2"], stream=stream)
    logging.getLogger("pyworkflow.worker").error(
        "poll failed: cannot connect with hunter2", extra={"error": "password hunter2 refused"}
    )
    text = stream.getvalue()
    assert "hunter2" not in text
    record = json.loads(text)
    assert record["event"] == "poll failed: cannot connect with ***"
    assert record["error"] == "password *** refused"


def test_secrets_are_masked_inside_lists_and_dicts():
    stream = io.StringIO()
    configure_logging("json", "info", secrets=["tok-999"], stream=stream)
    logging.getLogger("pyworkflow.cli").info(
        "starting activity worker",
        extra={
            "workers": ["tok-999", "plain"],
            "settings": {"identity": "w-tok-999", "nested": [("tok-999", 1)], "tok-999": True},
        },
    )
    text = stream.getvalue()
    assert "tok-999" not in text
    record = json.loads(text)
    assert record["workers"] == ["***", "plain"]
    assert record["settings"] == {"identity": "w-***", "nested": [["***", 1]], "***": True}


def test_secrets_are_masked_in_other_values_as_text():
    class Dsn:
        def __str__(self):
            return "postgresql://app:tok-999@db/app"

    stream = io.StringIO()
    configure_logging("json", "info", secrets=["tok-999"], stream=stream)
    logging.getLogger("pyworkflow.cli").info("connecting", extra={"dsn": Dsn(), "port": 5432})
    record = json.loads(stream.getvalue())
    assert record["dsn"] == "postgresql://app:***@db/app"
    assert record["port"] == 5432


def test_exceptions_become_a_field_in_json():
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)
    try:
        raise RuntimeError("disk full")
    except RuntimeError:
        logging.getLogger("pyworkflow.worker").error("poll failed", exc_info=True)
    record = json.loads(stream.getvalue())
    assert "RuntimeError: disk full" in record["exception"]


def test_configuring_twice_keeps_one_handler():
    first, second = io.StringIO(), io.StringIO()
    configure_logging("json", "info", stream=first)
    configure_logging("json", "info", stream=second)
    log_task(process_id="p-1")
    assert first.getvalue() == ""
    assert len(second.getvalue().splitlines()) == 1


def test_user_loggers_follow_the_configured_level():
    stream = io.StringIO()
    configure_logging("json", "debug", stream=stream)
    logging.getLogger("shop.billing").debug("card checked")
    logging.getLogger("shop.billing").info("charging card")
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(r["event"], r["level"], r["logger"]) for r in records] == [
        ("card checked", "debug", "shop.billing"),
        ("charging card", "info", "shop.billing"),
    ]


def test_user_loggers_below_the_level_are_dropped():
    stream = io.StringIO()
    configure_logging("json", "warning", stream=stream)
    logging.getLogger("shop.billing").info("charging card")
    logging.getLogger("shop.billing").warning("card declined")
    assert [json.loads(line)["event"] for line in stream.getvalue().splitlines()] == [
        "card declined"
    ]


def test_driver_chatter_stays_out_even_at_debug():
    stream = io.StringIO()
    configure_logging("json", "debug", stream=stream)
    logging.getLogger("botocore.endpoint").debug("sending request")
    logging.getLogger("urllib3.connectionpool").warning("retrying")
    assert [json.loads(line)["event"] for line in stream.getvalue().splitlines()] == ["retrying"]


BROKEN = """\
from pyworkflow.activity import Activity
from pyworkflow.decision import FailProcess
from pyworkflow.workflow import Workflow


class BrokenActivity(Activity):
    def execute(self):
        raise ValueError("card declined")


class BrokenWorkflow(Workflow):
    activities = [BrokenActivity]

    def decide(self, process):
        if any(event.type == "activity" for event in process.history):
            return FailProcess("payment")
        return BrokenActivity
"""


def test_a_failed_activity_logs_one_outcome_the_true_one(invoke, write, tmp_path):
    write("broken_shop.py", BROKEN)
    backend = f"backend: {{type: sqlite, path: {tmp_path}/shop.db}}\n"
    config = write("shop.yaml", backend + "workflows: [broken_shop]\n")
    assert invoke("process", "start", "Broken", "-c", config).exit_code == 0
    result = invoke("worker", "all", "--exit-when-idle", "-c", config)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stderr.splitlines()]
    [failed] = [record for record in records if record.get("activity") == "Broken"]
    assert failed["event"] == "activity failed"
    assert failed["outcome"] == "failed"
    assert failed["reason"] == "card declined"
    assert failed["level"] == "warning"


def test_no_color_turns_colours_off(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    stream = Terminal()
    configure_logging("auto", "info", stream=stream)
    log_task(process_id="p-1")
    assert "activity completed" in stream.getvalue()
    assert "\x1b[" not in stream.getvalue()


def test_log_level_and_format_from_the_environment(invoke, write, tmp_path, monkeypatch):
    config = write(
        "shop.yaml",
        f"backend: {{type: sqlite, path: {tmp_path}/shop.db}}\n"
        "workflows: [pyworkflow.examples.multiplication]\nlogging: {level: info, format: json}\n",
    )
    monkeypatch.setenv("PYWORKFLOW_LOG_LEVEL", "WARNING")
    quiet = invoke("worker", "activity", "--exit-when-idle", "-c", config)
    assert quiet.exit_code == 0 and quiet.stderr == ""  # info lines are below the level

    monkeypatch.setenv("PYWORKFLOW_LOG_LEVEL", "info")
    monkeypatch.setenv("PYWORKFLOW_LOG_FORMAT", "console")
    console = invoke("worker", "activity", "--exit-when-idle", "-c", config)
    assert "worker started" in console.stderr
    assert not console.stderr.lstrip().startswith("{")


def test_a_bad_log_level_in_the_environment_is_a_config_error(invoke, monkeypatch):
    monkeypatch.setenv("PYWORKFLOW_LOG_LEVEL", "loud")
    result = invoke("config", "check", "--no-connect")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: $PYWORKFLOW_LOG_LEVEL: expected one of debug, info, warning, error, critical; "
        "got 'loud'"
    )
