"""The web UI's pages and routes over every backend, served over HTTP in this process.

The browser tests (test_ui_browser.py) show the pages render; these pin down
what they hold: ordering, filters, pages, links between parent and children,
attempts, and that no route changes anything.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
import uvicorn  # noqa: E402

from pyworkflow.activity import ActivityCompleted, ActivityExecution  # noqa: E402
from pyworkflow.decision import ScheduleActivity, StartChildProcess  # noqa: E402
from pyworkflow.events import ActivityEvent, ActivityStartedEvent  # noqa: E402
from pyworkflow.manager import Manager  # noqa: E402
from pyworkflow.process import Process  # noqa: E402
from pyworkflow_cli.ui.app import create_app  # noqa: E402
from pyworkflow_cli.ui.server import bind, url  # noqa: E402
from pyworkflow_cli.ui.views import Filters, list_page, process_page, timeline  # noqa: E402

from ..support import (  # noqa: E402
    ManualWorkflow,
    ShortWorkflow,
    TimeoutsActivity,
    decide,
    start,
    take_activity,
)


@pytest.fixture
def manager(backend) -> Manager:
    return Manager(backend, workflows=[ManualWorkflow, ShortWorkflow])


def ids(page: Any) -> list[str]:
    return [row.id for row in page.rows]


def test_the_list_is_newest_first_and_paged(manager, clock):
    started = []
    for number in range(5):
        started.append(start(manager, id=f"p{number}"))
        clock.advance(1)
    first = list_page(manager.backend, Filters(), page_size=2)
    assert ids(first) == ["p4", "p3"]
    assert (first.total, first.pages, first.previous_url, first.next_url) == (
        5,
        3,
        None,
        "/?page=2",
    )
    last = list_page(manager.backend, Filters(page=3), page_size=2)
    assert ids(last) == ["p0"]
    assert (last.previous_url, last.next_url) == ("/?page=2", None)
    beyond = list_page(manager.backend, Filters(page=9), page_size=2)
    assert ids(beyond) == ["p0"]  # a page past the end shows the last one


def test_the_list_filters_by_status_workflow_and_tag(manager, clock):
    start(manager, id="manual-tagged", tags=["nightly"])
    clock.advance(1)
    start(manager, workflow=ShortWorkflow, id="short")
    clock.advance(1)
    start(manager, id="manual-closed")
    manager.cancel_process("manual-closed")

    def listed(**filters: str) -> list[str]:
        return ids(list_page(manager.backend, Filters(**filters)))

    assert listed() == ["manual-closed", "short", "manual-tagged"]
    assert listed(status="open") == ["short", "manual-tagged"]
    assert listed(status="canceled") == ["manual-closed"]
    assert listed(status="closed") == ["manual-closed"]
    assert listed(workflow="Short") == ["short"]
    assert listed(tag="nightly") == ["manual-tagged"]
    assert listed(status="open", workflow="Manual", tag="nightly") == ["manual-tagged"]
    assert listed(tag="nothing") == []
    tagged = Filters(status="open", tag="nightly", page=2)
    assert tagged.url(page=3) == "/?status=open&tag=nightly&page=3"


def test_a_process_page_links_parent_and_children_and_counts_attempts(manager, clock):
    parent_id = start(manager, id="parent")
    child = Process(workflow=ManualWorkflow, id="child/1", input={"n": 1})
    decide(
        manager,
        StartChildProcess(child),
        ScheduleActivity(TimeoutsActivity, id="slow", input="x"),
        process_id=parent_id,
    )
    decide(manager, process_id="child/1")
    take_activity(manager)
    clock.advance(TimeoutsActivity.execution_timeout + 1)  # the first attempt times out
    decide(manager, ScheduleActivity(TimeoutsActivity, id="slow", input="x"), process_id=parent_id)
    manager.complete_task(take_activity(manager), ActivityCompleted("echoed"))

    page = process_page(manager.process_by_id(parent_id))
    assert [(link.text, link.url, link.note) for link in page.children] == [
        ("child/1", "/processes/child%2F1", "Manual")
    ]
    assert page.parent is None
    attempts = [(e.type, e.attempt) for e in page.timeline if e.attempt is not None]
    assert attempts == [
        ("activity_started", 1),
        ("activity", 1),
        ("activity_started", 2),
        ("activity", 2),
    ]
    child_page = process_page(manager.process_by_id("child/1"))
    assert child_page.parent is not None
    assert (child_page.parent.text, child_page.parent.url) == ("parent", "/processes/parent")
    assert child_page.input == '{"n": 1}'
    assert child_page.result == []


def test_the_timeline_shows_the_worker_that_ran_each_attempt_where_it_was_recorded():
    execution = ActivityExecution("Echo", "echo", "x")
    started = ActivityStartedEvent(execution)
    started.identity = "host:42:activity"  # recorded by backends that keep it
    entries = timeline([started, ActivityEvent(execution, ActivityCompleted("x"))])
    assert [(e.type, e.identity, e.attempt) for e in entries] == [
        ("activity_started", "host:42:activity", 1),
        ("activity", "host:42:activity", 1),
    ]
    assert [e.identity for e in timeline([ActivityStartedEvent(execution)])] == [None]


# -- over HTTP -----------------------------------------------------------------------------


@pytest.fixture
def served(backend) -> Iterator[str]:
    listening = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(backend), log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]})
    thread.start()
    try:
        while not server.started:
            thread.join(0.01)
            assert thread.is_alive(), "the server did not start"
        yield url(listening).rstrip("/")
    finally:
        server.should_exit = True
        thread.join()
        listening.close()


def fetch(address: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(address, method=method, data=b"" if method != "GET" else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_no_route_answers_a_post_or_changes_anything(served, manager):
    process_id = start(manager, id="still-open")
    for path in ("/", "/?status=open", f"/processes/{process_id}", "/metrics", "/static/style.css"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            status, headers, _ = fetch(served + path, method)
            assert status == 405, (method, path)
            assert "POST" not in headers.get("allow", "")
    assert manager.process_by_id(process_id).is_open


def test_pages_answer_with_html_that_allows_no_script(served, manager):
    start(manager, id="one")
    for path in ("/", "/processes/one"):
        status, headers, body = fetch(served + path)
        assert status == 200
        assert headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in headers["content-security-policy"]
        assert "<script" not in body


def test_an_unknown_process_or_filter_is_a_page_saying_so(served, manager):
    status, _, body = fetch(served + "/processes/nope")
    assert status == 404 and "nope" in body
    status, _, body = fetch(served + "/?status=sleeping")
    assert status == 400 and "status must be one of" in body
    status, _, body = fetch(served + "/?page=0")
    assert status == 400 and "page must be a whole number" in body


def test_the_ui_serves_open_processes_by_workflow_for_prometheus(served, manager):
    for _ in range(2):
        start(manager)
    start(manager, workflow=ShortWorkflow)
    status, headers, body = fetch(served + "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert 'pyworkflow_open_processes{workflow="Manual"} 2.0' in body.splitlines()
    assert 'pyworkflow_open_processes{workflow="Short"} 1.0' in body.splitlines()
