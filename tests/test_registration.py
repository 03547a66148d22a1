"""Names identify code across worker processes: one name, one class."""

from __future__ import annotations

from typing import Any

import pytest

from pyworkflow.activity import Activity
from pyworkflow.manager import Manager
from pyworkflow.workflow import Workflow, unique


def make_activity(module: str) -> type[Activity]:
    return type("NotifyActivity", (Activity,), {"__module__": module})


def make_workflow(name: str, activity: type[Activity]) -> type[Workflow]:
    return type(name, (Workflow,), {"activities": [activity]})


def test_two_activity_classes_with_one_name_are_refused_naming_both(backend):
    first, second = make_activity("shop.mail"), make_activity("shop.sms")
    manager = Manager(backend, [make_workflow("MailWorkflow", first)])
    with pytest.raises(ValueError, match=r"'Notify'.*shop\.mail\.NotifyActivity.*shop\.sms"):
        manager.register_workflow(make_workflow("SmsWorkflow", second))
    assert manager.activities == {"Notify": first}
    assert list(manager.workflows) == ["Mail"]


def test_a_distinct_name_attribute_lets_both_live(backend):
    first, second = make_activity("shop.mail"), make_activity("shop.sms")
    second.name = "SmsNotify"  # type: ignore[misc]
    manager = Manager(
        backend, [make_workflow("MailWorkflow", first), make_workflow("SmsWorkflow", second)]
    )
    assert manager.activities == {"Notify": first, "SmsNotify": second}


def test_the_same_class_twice_is_fine(backend):
    activity = make_activity("shop.mail")
    manager = Manager(backend, [make_workflow("AWorkflow", activity)])
    manager.register_workflow(make_workflow("BWorkflow", activity))
    assert manager.activities == {"Notify": activity}


def test_unique_keeps_first_occurrences_of_hashable_and_unhashable_items():
    items: list[Any] = [1, {"a": 1}, 1, [2], {"a": 1}, "x", [2]]
    assert unique(items) == [1, {"a": 1}, [2], "x"]
