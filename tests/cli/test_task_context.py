"""Lines that workflow code logs while a worker runs its task carry the task's
fields, through the same rendering as the worker's own lines."""

from __future__ import annotations

import json

from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.worker import ActivityWorker, DecisionWorker
from pyworkflow_cli.task_context import LogContextHook
from tests.cli.sample_workflows import ChargeWorkflow

CONFIG = """\
backend: {type: memory}
workflows: [tests.cli.sample_workflows]
logging: {format: json, level: debug}
"""


def records(text, logger):
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == logger]


def test_worker_lines_from_user_code_carry_the_task(invoke, write, shared_backend):
    config = write("cfg.yaml", CONFIG)
    started = invoke("process", "start", "Charge", "--input", '"acct-1"', "--config", config)
    process_id = started.stdout.strip()

    result = invoke("worker", "all", "--exit-when-idle", "--config", config)

    assert result.exit_code == 0, result.output
    billing = records(result.stderr, "shop.billing")
    assert [line["event"] for line in billing] == [
        "scheduling the charge",
        "card details checked for acct-1",
        "charging card for acct-1",
    ]
    decider, *activity = billing
    assert decider["process_id"] == process_id
    assert decider["workflow"] == "Charge"
    assert decider["attempt"] == 1
    assert "activity" not in decider
    for line in activity:
        assert line["process_id"] == process_id
        assert line["activity"] == "Charge"
        assert line["attempt"] == 1
        assert "activity_id" in line
        assert "workflow" not in line
    worker_lines = records(result.stderr, "pyworkflow.cli")
    assert worker_lines and all("process_id" not in line for line in worker_lines)


def test_the_context_ends_with_the_task():
    import structlog

    manager = Manager(MemoryBackend(), [ChargeWorkflow])
    manager.start_process(Process(workflow=ChargeWorkflow, input="acct-2"))
    assert DecisionWorker(manager, hooks=[LogContextHook()]).step()
    assert ActivityWorker(manager, hooks=[LogContextHook()]).step()
    assert structlog.contextvars.get_contextvars() == {}
