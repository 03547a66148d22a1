"""An activity may heartbeat in a tight loop; the worker forwards a few, not all."""

from __future__ import annotations

from typing import Any

import pytest

from pyworkflow.activity import Activity
from pyworkflow.backend.blinker import BlinkerBackend
from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.decision import CompleteProcess
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted
from pyworkflow.testing import run_process
from pyworkflow.worker import ThrottledHeartbeat
from pyworkflow.workflow import DefaultWorkflow


class BusyActivity(Activity):
    def execute(self) -> Any:
        for _ in range(10_000):
            self.heartbeat()
        return "done"


class BusyWorkflow(DefaultWorkflow):
    activities = [BusyActivity]

    def initiate(self, process: Process) -> Any:
        return BusyActivity

    def respond_to_completed_activity(self, process: Process, execution: Any, result: Any) -> Any:
        return CompleteProcess(result)


def test_ten_thousand_heartbeats_reach_the_backend_a_few_times(clock):
    backend = BlinkerBackend(MemoryBackend(clock=clock))
    sent: list[bool] = []
    backend.on_activity_heartbeat.connect(
        lambda sender, **kwargs: sent.append(kwargs["cancel_requested"]), weak=False
    )
    process = run_process(Manager(backend, [BusyWorkflow]), Process(workflow=BusyWorkflow))
    assert process.result == ProcessCompleted("done")
    assert 1 <= len(sent) <= 3


def test_the_throttle_repeats_the_last_answer_until_the_interval_passes():
    answers = iter([False, True])
    calls: list[int] = []

    def send() -> bool:
        calls.append(1)
        return next(answers)

    throttled = ThrottledHeartbeat(send, interval=3600)
    assert [throttled() for _ in range(5)] == [False] * 5
    assert len(calls) == 1
    always = ThrottledHeartbeat(send, interval=0)
    assert always() is True


@pytest.mark.parametrize("answer", [None, 1, "yes", object(), {"cancelRequested": False}])
def test_only_a_true_answer_from_a_heartbeat_function_means_cancel(answer):
    from pyworkflow.activity import ActivityMonitor

    assert ActivityMonitor(heartbeat_fn=lambda: answer).heartbeat() is False


def test_a_true_answer_from_a_heartbeat_function_requests_cancel():
    from pyworkflow.activity import ActivityMonitor

    assert ActivityMonitor(heartbeat_fn=lambda: True).heartbeat() is True
    assert ActivityMonitor().heartbeat() is False
