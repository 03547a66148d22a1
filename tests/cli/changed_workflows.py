"""A new version of the quickstart's workflow, for the replay command's tests: it
completes with the result doubled, so its last decision differs from the original's."""

from __future__ import annotations

from pyworkflow.decision import CompleteProcess
from pyworkflow.examples.multiplication import FooWorkflow


class DoublingFooWorkflow(FooWorkflow):
    name = "Foo"

    def decide(self, process):
        decided = super().decide(process)
        if isinstance(decided, CompleteProcess):
            return CompleteProcess(decided.result * 2)
        return decided
