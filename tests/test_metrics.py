"""Worker metrics: what a scrape of a worker that ran tasks shows, on every backend."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest

from pyworkflow.activity import Activity, ActivityCanceled
from pyworkflow.decision import CompleteProcess, ScheduleActivity
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.worker import ActivityWorker, DecisionWorker
from pyworkflow.workflow import Workflow

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from pyworkflow.metrics import ProcessMetrics, WorkerMetrics  # noqa: E402


class MeteredActivity(Activity):
    """Ends as its input says, and notes what the in-flight gauge read meanwhile."""

    metrics: WorkerMetrics | None = None
    in_flight_seen: list[float | None] = []

    def execute(self) -> Any:
        assert self.metrics is not None
        self.in_flight_seen.append(
            self.metrics.registry.get_sample_value(
                "pyworkflow_tasks_in_flight", {"kind": "activity"}
            )
        )
        if self.input == "fail":
            raise ValueError("told to fail")
        if self.input == "cancel":
            return ActivityCanceled("told to cancel")
        return self.input


class MeteredWorkflow(Workflow):
    """One activity per input item, all at once; completes once all have ended."""

    activities = [MeteredActivity]

    def decide(self, process: Process) -> Any:
        ended = [event for event in process.history if event.type == "activity"]
        if not any(event.type == "decision" for event in process.history):
            return [
                ScheduleActivity(MeteredActivity, id=str(index), input=item)
                for index, item in enumerate(process.input)
            ]
        if len(ended) == len(process.input):
            return CompleteProcess(len(ended))
        return []


@pytest.fixture
def metrics() -> WorkerMetrics:
    metrics = WorkerMetrics()
    MeteredActivity.metrics = metrics
    MeteredActivity.in_flight_seen = []
    return metrics


def run_to_end(manager: Manager, workers: list[Any], process_id: str) -> None:
    for _ in range(50):
        if not manager.process_by_id(process_id).is_open:
            return
        for worker in workers:
            worker.run(exit_when_idle=True)
    raise AssertionError("process did not close")


def scrape(metrics: WorkerMetrics) -> dict[str, Any]:
    with metrics.serve(0) as server, urllib.request.urlopen(server.url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def value(families: dict[str, Any], sample_name: str, **labels: str) -> float | None:
    family_name = sample_name.removesuffix("_total").removesuffix("_count").removesuffix("_sum")
    for sample in families[family_name].samples:
        if sample.name == sample_name and sample.labels == labels:
            return sample.value
    return None


@pytest.mark.needs("activity_canceled")
def test_a_scrape_counts_tasks_by_kind_name_and_outcome(backend, metrics):
    manager = Manager(backend, workflows=[MeteredWorkflow])
    workers = [DecisionWorker(manager, hooks=[metrics]), ActivityWorker(manager, hooks=[metrics])]
    process_id = manager.start_process(
        Process(workflow=MeteredWorkflow, input=["ok", "fail", "cancel"])
    )
    run_to_end(manager, workers, process_id)

    families = scrape(metrics)
    activity = {"kind": "activity", "name": MeteredActivity.name}
    for outcome in ("completed", "failed", "canceled"):
        assert value(families, "pyworkflow_tasks_total", **activity, outcome=outcome) == 1
    decisions = value(
        families, "pyworkflow_tasks_total", kind="decision", name="Metered", outcome="completed"
    )
    history = manager.process_by_id(process_id).history
    assert decisions == len([event for event in history if event.type == "decision_started"])

    assert value(families, "pyworkflow_task_duration_seconds_count", **activity) == 3
    buckets = [
        sample
        for sample in families["pyworkflow_task_duration_seconds"].samples
        if sample.name.endswith("_bucket") and sample.labels["kind"] == "activity"
    ]
    assert buckets and all(sample.labels["name"] == MeteredActivity.name for sample in buckets)
    assert [s.value for s in buckets if s.labels["le"] == "+Inf"] == [3]

    assert MeteredActivity.in_flight_seen == [1, 1, 1]
    assert value(families, "pyworkflow_tasks_in_flight", kind="activity") == 0
    assert value(families, "pyworkflow_polls_total", kind="activity", result="task") == 3
    assert value(families, "pyworkflow_polls_total", kind="activity", result="empty") >= 1


def test_a_poll_that_raises_is_counted_as_a_poll_error(tmp_path, metrics):
    from pyworkflow.backend.sqlite import SQLiteBackend

    backend = SQLiteBackend(tmp_path / "gone.sqlite3")
    manager = Manager(backend, workflows=[MeteredWorkflow])
    (tmp_path / "gone.sqlite3").unlink()
    (tmp_path / "gone.sqlite3").mkdir()  # the database is now a directory: every poll fails
    backend.close()
    ActivityWorker(manager, hooks=[metrics]).run(exit_when_idle=True)

    families = scrape(metrics)
    assert value(families, "pyworkflow_poll_errors_total", kind="activity") == 1
    assert value(families, "pyworkflow_polls_total", kind="activity", result="empty") is None


def test_two_hooks_keep_their_own_counts(backend):
    first, second = WorkerMetrics(), WorkerMetrics()
    manager = Manager(backend, workflows=[MeteredWorkflow])
    DecisionWorker(manager, hooks=[first]).run(exit_when_idle=True)
    empty = {"kind": "decision", "result": "empty"}
    assert first.registry.get_sample_value("pyworkflow_polls_total", empty) == 1
    assert second.registry.get_sample_value("pyworkflow_polls_total", empty) is None


def test_open_processes_are_counted_by_workflow_at_each_scrape(backend):
    manager = Manager(backend, workflows=[MeteredWorkflow])
    processes = ProcessMetrics(backend)
    for _ in range(2):
        manager.start_process(Process(workflow=MeteredWorkflow, input=[]))
    sample = {"workflow": "Metered"}
    assert processes.registry.get_sample_value("pyworkflow_open_processes", sample) == 2
    manager.cancel_process(manager.processes()[0].id)
    assert processes.registry.get_sample_value("pyworkflow_open_processes", sample) == 1


def test_a_task_whose_report_raised_is_counted_as_an_error_and_leaves_no_task_in_flight():
    from pyworkflow.hooks import TaskInfo, run_with_hooks

    metrics = WorkerMetrics()
    info = TaskInfo("decision", "Metered", "p1", 1, "worker-1", task=None)  # type: ignore[arg-type]

    def report_fails() -> str:
        raise ConnectionError("database went away")

    with pytest.raises(ConnectionError):
        run_with_hooks([metrics], info, report_fails)
    sample = metrics.registry.get_sample_value
    labels = {"kind": "decision", "name": "Metered", "outcome": "error"}
    assert sample("pyworkflow_tasks_total", labels) == 1
    assert sample("pyworkflow_tasks_in_flight", {"kind": "decision"}) == 0
