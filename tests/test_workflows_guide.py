"""The order workflow at the top of docs/workflows.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.testing import ManualClock, replay, run_until_idle

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "workflows.md"


class CardDeclined(Exception):
    pass


class Payments:
    """Fails the first ``flaky`` charges with a network error, declines card 'stolen'."""

    def __init__(self, flaky: int) -> None:
        self.flaky = flaky
        self.calls = 0

    def charge(self, card: str, amount: int) -> str:
        self.calls += 1
        if card == "stolen":
            raise CardDeclined(card)
        if self.calls <= self.flaky:
            raise ConnectionError("payment service unreachable")
        return f"charged {amount}"


class Warehouse:
    def ship(self, items: list[str]) -> str:
        return f"shipped {len(items)}"


def order_workflow(payments: Payments) -> Any:
    code = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)[0]
    namespace: dict[str, Any] = {"payments": payments, "warehouse": Warehouse()}
    exec(compile(code, str(GUIDE), "exec"), namespace)
    return namespace["OrderWorkflow"]


def run_order(payments: Payments, card: str) -> tuple[Any, Process]:
    workflow = order_workflow(payments)
    clock = ManualClock()
    manager = Manager(MemoryBackend(clock=clock), [workflow])
    process_id = manager.start_process(
        Process(workflow, input={"card": card, "amount": 30, "items": ["a", "b"]})
    )
    for _ in range(6):
        run_until_idle(manager)
        clock.advance(10)
    return workflow, manager.process_by_id(process_id)


def test_the_guide_order_is_charged_after_retries_and_shipped():
    payments = Payments(flaky=2)
    workflow, process = run_order(payments, "good")
    assert process.result.result == "shipped 2"
    assert payments.calls == 3
    assert replay(workflow, process) >= 5


def test_the_guide_order_fails_at_once_on_a_declined_card():
    payments = Payments(flaky=0)
    _, process = run_order(payments, "stolen")
    assert process.status == "failed"
    assert (process.result.reason, process.result.details) == ("payment", "failed")
    assert payments.calls == 1
