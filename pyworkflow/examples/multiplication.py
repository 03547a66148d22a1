"""The README's quickstart: multiply two numbers by repeated addition.

``FooWorkflow`` schedules one ``MultiplicationActivity`` on the process input
and closes the process with the activity's outcome: completed with the product,
canceled when the first operand is over 10, failed on any other outcome.
"""

from pyworkflow.activity import Activity, ActivityAborted, ActivityCanceled, ActivityCompleted
from pyworkflow.decision import CancelProcess, CompleteProcess, FailProcess
from pyworkflow.workflow import Workflow


class MultiplicationActivity(Activity):
    scheduled_timeout = 300  # max seconds in queue
    execution_timeout = 10  # max execution duration

    def execute(self):
        if not type(self.input) == list or not len(self.input) == 2:  # noqa: E721 - as in the seed
            raise ValueError("invalid input")

        if self.input[0] > 10:
            return ActivityAborted("first operand must be <= 10")

        result = 0
        for _ in range(0, self.input[0]):
            # multiplication is repeated addition
            result += self.input[1]

            # give a sign of life
            self.heartbeat()

        return result


def foo_bar_conditional(history):
    """True until the multiplication has reported an outcome."""
    return not any(event.type == "activity" for event in history)


class FooWorkflow(Workflow):
    activities = [MultiplicationActivity]

    def decide(self, process):
        if foo_bar_conditional(process.history):
            # shorthand for ScheduleActivity(MultiplicationActivity, input=process.input)
            return MultiplicationActivity
        outcome = [event.result for event in process.history if event.type == "activity"][-1]
        if isinstance(outcome, ActivityCompleted):
            return CompleteProcess(outcome.result)
        if isinstance(outcome, ActivityCanceled):  # ActivityAborted is ActivityCanceled
            return CancelProcess(outcome.details)
        # ActivityFailed (an exception in execute) or ActivityTimedOut
        return FailProcess(reason=outcome.type, details=outcome.args[0])
