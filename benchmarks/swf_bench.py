"""Amazon SWF backend on moto's server: processes per second and SWF calls per process,
side by side with two peers measured in the same run.

Run from anywhere: ``python benchmarks/swf_bench.py`` (``--processes N --rounds R``).
Each round starts N seed-example processes at once and waits until all are closed,
three ways, one after the other:

- ``boto3 loop``: the same workload as plain boto3 calls on moto (a decider thread
  and an activity thread, each poll -> respond, no pyworkflow). Its rate is what
  moto itself allows: the floor under any SWF client on this server.
- ``pyworkflow SWF``: ``AmazonSWFBackend`` on moto, one ``ActivityWorker`` and one
  ``DecisionWorker`` in threads.
- ``pyworkflow SQLite``: the same workers on the embedded backend, for scale.

moto's state is reset before every run, so each starts from an empty server. The
waiting loop lists closed processes once per check (one call per page, whatever N);
its calls are counted apart from the workers'. Calls are counted with botocore's
event hooks. moto answers an empty poll after about a second and holds no long
poll, and it serves every request from the same Python process as the workers.
Prints a table of medians over the rounds.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pyworkflow.backend.sqlite import SQLiteBackend  # noqa: E402
from pyworkflow.examples.multiplication import FooWorkflow  # noqa: E402
from pyworkflow.manager import Manager  # noqa: E402
from pyworkflow.process import Process  # noqa: E402
from pyworkflow.worker import ActivityWorker, DecisionWorker, WorkerThread  # noqa: E402
from tests.swf_server import fake_credentials, moto_server, swf_backend  # noqa: E402

INPUT = [2, 3]
CHECK_INTERVAL = 0.05
WAITING_THREAD = "swf-bench-wait"
POLLS = ("PollForDecisionTask", "PollForActivityTask")
READS = ("List", "Get", "Describe", "Count")


@dataclass
class CallCounter:
    """SWF calls by name, the waiting loop's apart (it runs in its own thread), and
    the polls that came back empty."""

    workers: Counter[str] = field(default_factory=Counter)
    waiting: Counter[str] = field(default_factory=Counter)
    empty_polls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.swf", self._before)
        client.meta.events.register("after-call.swf", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        with self.lock:
            mine = threading.current_thread().name == WAITING_THREAD
            (self.waiting if mine else self.workers)[model.name] += 1

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.name in POLLS and not parsed.get("taskToken"):
            with self.lock:
                self.empty_polls += 1


@dataclass
class Round:
    rate: float
    calls: CallCounter | None = None


def wait_all_closed(ids: set[str], closed_ids: Callable[[], set[str]], timeout: float) -> None:
    """Checks in a thread of its own, so its calls are told apart from the workers'."""
    failure: list[BaseException] = []

    def check() -> None:
        pending = set(ids)
        deadline = time.monotonic() + timeout
        try:
            while pending:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{len(pending)} processes still open after {timeout} s")
                pending -= closed_ids()
                if pending:
                    time.sleep(CHECK_INTERVAL)
        except BaseException as error:  # re-raised in the caller
            failure.append(error)

    thread = threading.Thread(target=check, name=WAITING_THREAD)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


# -- peer: the same workload as plain boto3 calls ------------------------------------------


def boto3_round(url: str, processes: int, timeout: float) -> Round:
    import boto3

    reset_moto(url)
    client = boto3.client("swf", endpoint_url=url, region_name="us-east-1")
    domain, tasks = "bench-boto3", {"name": "bench"}
    client.register_domain(name=domain, workflowExecutionRetentionPeriodInDays="1")
    client.register_workflow_type(
        domain=domain,
        name="bench",
        version="1",
        defaultTaskList=tasks,
        defaultTaskStartToCloseTimeout="60",
        defaultExecutionStartToCloseTimeout="3600",
        defaultChildPolicy="ABANDON",
    )
    client.register_activity_type(
        domain=domain,
        name="multiply",
        version="1",
        defaultTaskList=tasks,
        defaultTaskScheduleToStartTimeout="300",
        defaultTaskStartToCloseTimeout="60",
        defaultTaskHeartbeatTimeout="NONE",
        defaultTaskScheduleToCloseTimeout="NONE",
    )
    calls = CallCounter()
    calls.attach(client)
    stop = threading.Event()

    def decide() -> None:
        while not stop.is_set():
            task = client.poll_for_decision_task(domain=domain, taskList=tasks)
            if not task.get("taskToken"):
                continue
            done = [
                e["activityTaskCompletedEventAttributes"]["result"]
                for e in task["events"]
                if e["eventType"] == "ActivityTaskCompleted"
            ]
            if done:
                decision = {
                    "decisionType": "CompleteWorkflowExecution",
                    "completeWorkflowExecutionDecisionAttributes": {"result": done[0]},
                }
            else:
                decision = {
                    "decisionType": "ScheduleActivityTask",
                    "scheduleActivityTaskDecisionAttributes": {
                        "activityType": {"name": "multiply", "version": "1"},
                        "activityId": "multiply",
                        "input": task["events"][0]["workflowExecutionStartedEventAttributes"][
                            "input"
                        ],
                    },
                }
            client.respond_decision_task_completed(
                taskToken=task["taskToken"], decisions=[decision]
            )

    def work() -> None:
        while not stop.is_set():
            task = client.poll_for_activity_task(domain=domain, taskList=tasks)
            if not task.get("taskToken"):
                continue
            left, right = json.loads(task["input"])
            client.record_activity_task_heartbeat(taskToken=task["taskToken"])
            client.respond_activity_task_completed(
                taskToken=task["taskToken"], result=json.dumps(left * right)
            )

    threads = [threading.Thread(target=decide), threading.Thread(target=work)]
    for thread in threads:
        thread.start()

    def closed_ids() -> set[str]:
        page = client.list_closed_workflow_executions(
            domain=domain, startTimeFilter={"oldestDate": 0}
        )
        return {info["execution"]["workflowId"] for info in page["executionInfos"]}

    started = time.perf_counter()
    ids = {f"p{index}" for index in range(processes)}
    for workflow_id in sorted(ids):
        client.start_workflow_execution(
            domain=domain,
            workflowId=workflow_id,
            workflowType={"name": "bench", "version": "1"},
            input=json.dumps(INPUT),
        )
    try:
        wait_all_closed(ids, closed_ids, timeout)
        rate = processes / (time.perf_counter() - started)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return Round(rate, calls)


# -- pyworkflow on SWF (moto) and on SQLite --------------------------------------------------


@contextmanager
def running_workers(manager: Manager) -> Iterator[None]:
    threads = [WorkerThread(ActivityWorker(manager)), WorkerThread(DecisionWorker(manager))]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for thread in threads:
            thread.join(30)


def pyworkflow_round(manager: Manager, processes: int, timeout: float) -> float:
    with running_workers(manager):

        def closed_ids() -> set[str]:
            return {str(p.id) for p in manager.processes(status="closed")}

        started = time.perf_counter()
        ids = {
            manager.start_process(Process(workflow=FooWorkflow, input=INPUT))
            for _ in range(processes)
        }
        wait_all_closed(ids, closed_ids, timeout)
        return processes / (time.perf_counter() - started)


def swf_round(url: str, processes: int, timeout: float) -> Round:
    reset_moto(url)
    with swf_backend(url) as backend:
        calls = CallCounter()
        manager = Manager(backend=backend, workflows=[FooWorkflow])
        calls.attach(backend.client)
        return Round(pyworkflow_round(manager, processes, timeout), calls)


def sqlite_round(processes: int, timeout: float) -> Round:
    with tempfile.TemporaryDirectory() as directory:
        backend = SQLiteBackend(str(Path(directory) / "bench.db"))
        try:
            manager = Manager(backend=backend, workflows=[FooWorkflow])
            return Round(pyworkflow_round(manager, processes, timeout))
        finally:
            backend.close()


def reset_moto(url: str) -> None:
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request) as response:
        response.read()


# -- the table -------------------------------------------------------------------------------


def _sum_of(names: list[str]) -> Callable[[CallCounter], float]:
    """A row's figure: the calls of these names, one run's workers together."""
    return lambda counter: sum(counter.workers[name] for name in names)


def kind_of(name: str) -> str:
    if name in POLLS:
        return "poll"
    if name.startswith(READS):
        return "read"
    return "work"


def per_process(rounds: list[Round], processes: int, pick: Callable[[CallCounter], float]) -> float:
    return statistics.median(pick(r.calls) for r in rounds if r.calls) / processes


def print_table(runs: dict[str, list[Round]], processes: int) -> None:
    names = list(runs)
    width = 46

    def row(label: str, values: list[str]) -> None:
        print(f"{label:<{width}}" + "".join(f"{v:>23}" for v in values))

    def swf_row(label: str, pick: Callable[[CallCounter], float]) -> None:
        row(
            label,
            [
                f"{per_process(runs[n], processes, pick):.2f}" if runs[n][0].calls else "-"
                for n in names
            ],
        )

    rates = {n: statistics.median(r.rate for r in runs[n]) for n in names}
    base = rates[names[0]]
    row("measure (medians)", names)
    row("processes per second", [f"{rates[n]:.2f}" for n in names])
    row(f"  ratio to {names[0]}", [f"{rates[n] / base:.2f}" for n in names])
    calls = sorted(
        {name for rounds in runs.values() for r in rounds if r.calls for name in r.calls.workers}
    )
    for kind, label in (
        ("work", "SWF work calls per process"),
        ("poll", "SWF polls per process"),
        ("read", "SWF reads per process (workers)"),
    ):
        names_of_kind = [c for c in calls if kind_of(c) == kind]
        swf_row(label, _sum_of(names_of_kind))
        for name in names_of_kind:
            swf_row(f"  {name}", _sum_of([name]))
        if kind == "poll":
            swf_row("  of which empty", lambda c: c.empty_polls)
    swf_row("SWF reads per process (waiting loop)", lambda c: sum(c.waiting.values()))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300, help="seconds per round")
    options = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    fake_credentials()
    runs: dict[str, list[Round]] = {
        "boto3 loop (moto)": [],
        "pyworkflow SWF (moto)": [],
        "pyworkflow SQLite": [],
    }
    with moto_server() as url:
        for _ in range(options.rounds):
            n, timeout = options.processes, options.timeout
            runs["boto3 loop (moto)"].append(boto3_round(url, n, timeout))
            runs["pyworkflow SWF (moto)"].append(swf_round(url, n, timeout))
            runs["pyworkflow SQLite"].append(sqlite_round(n, timeout))
    print(f"{options.processes} processes per round, {options.rounds} rounds")
    print_table(runs, options.processes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
