"""The process commands against one memory backend shared by every invocation."""

from __future__ import annotations

import json

import pytest

from pyworkflow.examples.multiplication import FooWorkflow
from pyworkflow.manager import Manager
from pyworkflow.worker import ActivityWorker, DecisionWorker, WorkerThread
from pyworkflow_cli.errors import EXIT_STILL_OPEN
from tests.cli.sample_workflows import GatedWorkflow


@pytest.fixture
def workers(shared_backend):
    """Workers in threads on the shared backend, as worker processes would be."""
    manager = Manager(shared_backend, [FooWorkflow, GatedWorkflow])
    threads = [
        WorkerThread(ActivityWorker(manager, name="activity-worker-1")),
        WorkerThread(DecisionWorker(manager, name="decision-worker-1")),
    ]
    for thread in threads:
        thread.start()
    yield
    for thread in threads:
        thread.join(10)


def start(invoke, config, *args):
    result = invoke("process", "start", *args, "--config", config)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_start_prints_the_id_and_show_reads_it_back(invoke, memory_config, shared_backend):
    process_id = start(invoke, memory_config, "Foo", "--input", "[3,4]", "--tag", "nightly")
    assert shared_backend.process_by_id(process_id).input == [3, 4]

    shown = invoke("process", "show", process_id, "--json", "--config", memory_config)
    data = json.loads(shown.stdout)
    assert data["id"] == process_id
    assert data["workflow"] == "Foo"
    assert data["status"] == "open"
    assert data["tags"] == ["nightly"]
    assert data["input"] == [3, 4]
    assert data["result"] is None
    assert data["history"][0]["type"] == "process_started"


def test_show_prints_a_history_table(invoke, memory_config, workers):
    process_id = start(invoke, memory_config, "Foo", "--input", "[3,4]")
    assert invoke("process", "wait", process_id, "-c", memory_config).exit_code == 0
    text = invoke("process", "show", process_id, "--config", memory_config).stdout
    assert "status:    completed" in text
    assert "result:    12" in text
    lines = text.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("#")))
    events = [line.split()[3] for line in lines[header + 1 :]]
    assert events == [
        "process_started",
        "decision_started",
        "decision",
        "activity_started",
        "activity",
        "decision_started",
        "decision",
    ]
    assert "schedule_activity Multiplication input=[3,4]" in text
    assert "Multiplication completed 12" in text
    assert "complete_process result=12" in text
    assert "Multiplication id=" in text and "by activity-worker-1" in text
    assert "by decision-worker-1" in text


def test_show_json_names_the_workers_that_took_each_task(invoke, memory_config, workers):
    process_id = start(invoke, memory_config, "Foo", "--input", "[3,4]")
    assert invoke("process", "wait", process_id, "-c", memory_config).exit_code == 0
    shown = invoke("process", "show", process_id, "--json", "--config", memory_config)
    history = json.loads(shown.stdout)["history"]
    started = {
        event["type"]: event.get("identity") for event in history if "started" in event["type"]
    }
    assert started == {
        "process_started": None,
        "decision_started": "decision-worker-1",
        "activity_started": "activity-worker-1",
    }


def test_class_name_and_chosen_id(invoke, memory_config, shared_backend):
    process_id = start(invoke, memory_config, "FooWorkflow", "--id", "order-7", "--json")
    assert json.loads(process_id) == {"id": "order-7"}
    assert shared_backend.process_by_id("order-7").workflow == "Foo"


def test_input_from_a_file_and_from_stdin(invoke, memory_config, shared_backend, write):
    path = write("input.json", '{"numbers": [1, 2]}')
    from_file = start(invoke, memory_config, "Foo", "--input", f"@{path}")
    assert shared_backend.process_by_id(from_file).input == {"numbers": [1, 2]}

    result = invoke("process", "start", "Foo", "--input", "-", "-c", memory_config, input="[5,6]")
    assert shared_backend.process_by_id(result.stdout.strip()).input == [5, 6]


def test_start_wait_prints_the_result(invoke, memory_config, workers):
    result = invoke("process", "start", "Foo", "--input", "[3,4]", "--wait", "-c", memory_config)
    assert result.exit_code == 0
    assert result.stdout == "12\n"


def test_start_wait_json_on_failure_exits_1(invoke, memory_config, workers):
    result = invoke(
        "process", "start", "Foo", "--input", '"bad"', "--wait", "--json", "-c", memory_config
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["status"] == "failed"
    assert data["result"]["type"] == "failed"
    assert "failed" in result.stderr


def test_wait_timeout_on_an_open_process_exits_5_not_1(invoke, memory_config, shared_backend):
    """A script must tell "still running" (5) from "failed" (1)."""
    process_id = start(invoke, memory_config, "Foo", "--input", "[3,4]")
    result = invoke("process", "wait", process_id, "--timeout", "0", "-c", memory_config)
    assert result.exit_code == EXIT_STILL_OPEN == 5
    assert "still open" in result.stderr
    invoke("process", "cancel", process_id, "-c", memory_config)
    result = invoke("process", "wait", process_id, "--timeout", "0", "-c", memory_config)
    assert result.exit_code == 1


def test_wait_for_a_completed_process(invoke, memory_config, workers):
    process_id = start(invoke, memory_config, "Foo", "--input", "[2,5]")
    result = invoke("process", "wait", process_id, "--timeout", "30", "-c", memory_config)
    assert result.exit_code == 0
    assert result.stdout == "10\n"


def test_signal_with_data_reaches_the_history(invoke, memory_config, shared_backend):
    process_id = start(invoke, memory_config, "Foo", "--input", "[3,4]")
    result = invoke(
        "process", "signal", process_id, "resize", "--data", '{"width": 640}', "-c", memory_config
    )
    assert result.exit_code == 0
    signals = [
        e.signal for e in shared_backend.process_by_id(process_id).history if e.type == "signal"
    ]
    assert [(signal.name, signal.data) for signal in signals] == [("resize", {"width": 640})]


def test_cancel_closes_the_process_as_canceled(invoke, memory_config, shared_backend):
    process_id = start(invoke, memory_config, "Foo", "--input", "[3,4]")
    result = invoke(
        "process", "cancel", process_id, "--details", '"no longer needed"', "-c", memory_config
    )
    assert result.exit_code == 0
    process = shared_backend.process_by_id(process_id)
    assert process.status == "canceled"
    assert process.result.details == "no longer needed"
    waited = invoke("process", "wait", process_id, "-c", memory_config)
    assert waited.exit_code == 1
    assert "canceled" in waited.stderr


def test_cancel_request_leaves_the_decision_to_the_decider(invoke, memory_config, shared_backend):
    process_id = start(invoke, memory_config, "Foo", "--input", "[3,4]")
    result = invoke("process", "cancel", process_id, "--request", "-c", memory_config)
    assert result.exit_code == 0
    process = shared_backend.process_by_id(process_id)
    assert process.is_open
    assert "cancel_requested" in [event.type for event in process.history]


def test_list_filters_by_status_workflow_and_tag(invoke, memory_config, shared_backend):
    foo = start(invoke, memory_config, "Foo", "--input", "[1,1]", "--tag", "a")
    gated = start(invoke, memory_config, "Gated", "--tag", "b")
    closed = start(invoke, memory_config, "Foo", "--tag", "a")
    invoke("process", "cancel", closed, "-c", memory_config)

    def listed(*args):
        result = invoke("process", "list", "--json", *args, "-c", memory_config)
        assert result.exit_code == 0, result.output
        return sorted(item["id"] for item in json.loads(result.stdout))

    assert listed() == sorted([foo, gated])
    assert listed("--status", "all") == sorted([foo, gated, closed])
    assert listed("--status", "closed") == [closed]
    assert listed("--status", "canceled") == [closed]
    assert listed("--workflow", "FooWorkflow") == [foo]
    assert listed("--workflow", "Gated") == [gated]
    assert listed("--tag", "a", "--status", "all") == sorted([foo, closed])

    text = invoke("process", "list", "-c", memory_config).stdout.splitlines()
    assert text[0].split() == [
        "ID", "WORKFLOW", "STATUS", "STARTED", "(UTC)", "CLOSED", "(UTC)", "TAGS"
    ]  # fmt: skip
    assert len(text) == 4
    assert text[-1] == "3 processes kept (2 open); closed ones are kept forever"


def test_list_shows_the_most_recent_up_to_the_limit(invoke, memory_config, shared_backend):
    ids = [start(invoke, memory_config, "Foo", "--input", f"[{n},1]") for n in range(5)]

    def listed(*args):
        result = invoke("process", "list", "--json", *args, "-c", memory_config)
        assert result.exit_code == 0, result.output
        return [item["id"] for item in json.loads(result.stdout)], result.stderr

    newest_first = ids[::-1]
    assert listed("--limit", "2") == (
        newest_first[:2],
        "showing the 2 most recently started of 5 processes; --limit 0 shows all\n",
    )
    assert listed("--limit", "0") == (newest_first, "")
    assert listed() == (newest_first, "")
    assert invoke("process", "list", "--limit", "-1", "-c", memory_config).exit_code == 2


def test_list_default_limit_is_100(invoke, memory_config, shared_backend):
    from pyworkflow.process import Process

    manager = Manager(shared_backend, [FooWorkflow])
    for n in range(101):
        manager.start_process(Process(workflow=FooWorkflow, input=[n, 1]))
    result = invoke("process", "list", "--json", "-c", memory_config)
    assert len(json.loads(result.stdout)) == 100
    assert "of 101 processes" in result.stderr


def test_list_workflow_by_dotted_path(invoke, memory_config, shared_backend):
    foo = start(invoke, memory_config, "Foo", "--input", "[1,1]")
    start(invoke, memory_config, "Gated")
    result = invoke(
        "process", "list", "--json", "-c", memory_config,
        "--workflow", "pyworkflow.examples.multiplication:FooWorkflow",
    )  # fmt: skip
    assert [item["id"] for item in json.loads(result.stdout)] == [foo]


def test_list_unknown_workflow_is_an_error(invoke, memory_config, shared_backend):
    start(invoke, memory_config, "Foo", "--input", "[1,1]")
    result = invoke("process", "list", "--workflow", "Fooo", "-c", memory_config)
    assert result.exit_code == 2
    assert "unknown workflow 'Fooo'" in result.stderr


def test_list_finds_processes_of_a_workflow_no_longer_configured(
    invoke, memory_config, shared_backend
):
    from pyworkflow.process import Process
    from pyworkflow.workflow import Workflow

    class RetiredWorkflow(Workflow):
        pass

    old = Manager(shared_backend, [RetiredWorkflow]).start_process(
        Process(workflow=RetiredWorkflow)
    )
    result = invoke("process", "list", "--json", "--workflow", "Retired", "-c", memory_config)
    assert result.exit_code == 0, result.output
    assert [item["id"] for item in json.loads(result.stdout)] == [old]


def test_start_on_the_memory_backend_warns_that_the_process_ends_with_it(invoke, memory_config):
    result = invoke("process", "start", "Foo", "--input", "[3,4]", "--config", memory_config)
    assert result.exit_code == 0
    process_id = result.stdout.strip()
    assert result.stderr.startswith("Warning: the memory backend keeps processes only while")
    assert process_id in result.stderr


def test_start_of_a_workflow_no_worker_serves_warns(invoke):
    """With no config, no worker runs the workflow: starting it says so, once."""
    result = invoke("process", "start", "pyworkflow.examples.multiplication:Foo", "--input", "1")
    assert result.exit_code == 0, result.output
    [warning] = result.stderr.splitlines()
    assert warning.startswith("Warning: no configured worker serves workflow 'Foo'")


def test_start_of_a_configured_workflow_by_path_says_nothing_more(invoke, memory_config):
    result = invoke(
        "process", "start", "pyworkflow.examples.multiplication:Foo", "--input", "[1,2]",
        "--wait", "--timeout", "0", "-c", memory_config,
    )  # fmt: skip
    assert "Warning" not in result.stderr


def test_json_before_the_subcommand(invoke, memory_config, shared_backend):
    process_id = start(invoke, memory_config, "Foo", "--input", "[3,4]")
    result = invoke("--json", "--config", memory_config, "process", "show", process_id)
    assert json.loads(result.stdout)["id"] == process_id


def test_run_drives_the_process_to_its_end(invoke, memory_config):
    result = invoke("process", "run", "Foo", "--input", "[3,4]", "--config", memory_config)
    assert result.exit_code == 0, result.output
    assert result.stdout == "12\n"


def test_run_json(invoke, memory_config):
    result = invoke("process", "run", "Foo", "--input", "[3,4]", "--json", "-c", memory_config)
    data = json.loads(result.stdout)
    assert data["result"] == {"type": "completed", "result": 12}


def test_run_of_a_failing_process_exits_1(invoke, memory_config):
    result = invoke("process", "run", "Foo", "--input", '"bad"', "--config", memory_config)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "failed" in result.stderr
    assert "invalid input" in result.stderr


def test_run_of_a_canceled_process_exits_1(invoke, memory_config):
    result = invoke("process", "run", "Foo", "--input", "[11,4]", "--config", memory_config)
    assert result.exit_code == 1
    assert "canceled: first operand must be <= 10" in result.stderr


def test_run_a_workflow_by_dotted_path_not_in_the_config(invoke, write):
    config = write("bare.yaml", "backend:\n  type: memory\n")
    path = "pyworkflow.examples.multiplication:Foo"
    result = invoke("process", "run", path, "--input", "[3,4]", "--config", config)
    assert result.exit_code == 0, result.output
    assert result.stdout == "12\n"


def test_worker_all_exits_when_idle_after_running_everything(
    invoke, memory_config, shared_backend, caplog
):
    process_id = start(invoke, memory_config, "Foo", "--input", "[3,4]")
    result = invoke("worker", "all", "--exit-when-idle", "--config", memory_config)
    assert result.exit_code == 0, result.output
    assert shared_backend.process_by_id(process_id).status == "completed"
    [starting] = [r for r in caplog.records if r.name == "pyworkflow.cli"]
    assert starting.getMessage() == "starting activity worker and decision worker"
    assert starting.workflows == ["Charge", "Foo", "Gated"]
    assert starting.backend == "memory"


def test_worker_max_tasks(invoke, memory_config, shared_backend):
    start(invoke, memory_config, "Foo", "--input", "[3,4]")
    start(invoke, memory_config, "Foo", "--input", "[3,4]")
    assert invoke("worker", "decision", "--max-tasks", "1", "-c", memory_config).exit_code == 0
    activity = invoke(
        "worker", "activity", "--max-tasks", "5", "--exit-when-idle", "-c", memory_config
    )
    assert activity.exit_code == 0
    finished = [
        e for p in shared_backend.processes(status="all") for e in p.history if e.type == "activity"
    ]
    assert len(finished) == 1


def test_example_config_runs_the_seed_example(invoke, monkeypatch):
    example = invoke("config", "example")
    assert example.exit_code == 0
    text = example.stdout.replace("type: sqlite", "type: memory").replace(
        "  path: ${PYWORKFLOW_DB:-pyworkflow.db}\n", ""
    )
    with open("pyworkflow.yaml", "w") as file:
        file.write(text)
    result = invoke("process", "run", "Foo", "--input", "[3,4]")
    assert result.exit_code == 0, result.output
    assert result.stdout == "12\n"
