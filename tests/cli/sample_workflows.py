"""Workflows for the command's tests, importable as ``tests.cli.sample_workflows``.

``Gated`` runs one activity that can say when it started, wait for a release
file, and send a signal to its own worker process, so tests can stop a worker
mid-task without timing anything.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

from pyworkflow.activity import Activity, ActivityCompleted
from pyworkflow.decision import CompleteProcess, FailProcess
from pyworkflow.workflow import Workflow


class GatedActivity(Activity):
    scheduled_timeout = 300
    execution_timeout = 300
    heartbeat_timeout = 300

    def execute(self):
        options = self.input or {}
        if options.get("started"):
            Path(options["started"]).write_text(str(os.getpid()))
        if options.get("kill_self"):
            os.kill(os.getpid(), getattr(signal, options["kill_self"]))
        if options.get("release"):
            while not Path(options["release"]).exists():
                self.heartbeat()
                time.sleep(0.01)
        return options.get("result", "done")


class GatedWorkflow(Workflow):
    activities = [GatedActivity]

    def decide(self, process):
        outcomes = [event.result for event in process.history if event.type == "activity"]
        if not outcomes:
            return GatedActivity
        if isinstance(outcomes[-1], ActivityCompleted):
            return CompleteProcess(outcomes[-1].result)
        return FailProcess(reason=type(outcomes[-1]).__name__)


BILLING = logging.getLogger("shop.billing")


class ChargeActivity(Activity):
    """Logs on a logger of its own, as user code does."""

    def execute(self):
        BILLING.debug("card details checked for %s", self.input)
        BILLING.info("charging card for %s", self.input)
        return "charged"


class ChargeWorkflow(Workflow):
    activities = [ChargeActivity]

    def decide(self, process):
        done = [event.result for event in process.history if event.type == "activity"]
        if not done:
            BILLING.info("scheduling the charge")
            return ChargeActivity
        return CompleteProcess(done[-1].result)
