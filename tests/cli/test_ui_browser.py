"""``pyworkflow ui`` in a real browser: processes run on SQLite, seen in headless Chromium."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .browser import Chromium, Page, UiServer, chromium_path
from .processes import run

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

HTML_RESULT = "<b>bold</b><script>document.title='hacked'</script>"
HTML_INPUT = {"note": "<img src=x onerror=alert(1)>", "result": HTML_RESULT}


@pytest.fixture
def chromium(tmp_path: Path) -> Chromium:
    return Chromium(chromium_path(), tmp_path / "chromium")


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "pyworkflow.yaml"
    path.write_text(
        f"backend: {{type: sqlite, path: {tmp_path / 'workflows.db'}}}\n"
        "workflows: [pyworkflow.examples.multiplication, tests.cli.sample_workflows]\n"
        "logging: {format: json}\n"
    )
    return str(path)


@pytest.fixture
def processes(config: str) -> dict[str, str]:
    """A completed multiplication, then a process whose input and result hold HTML."""
    made = {}
    for name, workflow, payload in (
        ("multiplied", "Foo", "[3,4]"),
        ("html", "Gated", json.dumps(HTML_INPUT)),
    ):
        ran = run("process", "run", workflow, "--input", payload, "--config", config, "--json")
        assert ran.returncode == 0, ran.stderr
        made[name] = json.loads(ran.stdout)["id"]
    return made


@pytest.fixture
def ui(tmp_path: Path, config: str, processes: dict[str, str]) -> Iterator[UiServer]:
    server = UiServer(tmp_path / "ui.log", config)
    try:
        yield server
    finally:
        assert server.stop() == 0


def test_the_list_shows_each_process_newest_first(chromium, ui, processes):
    page = Page(chromium.dom(ui.url + "/"))
    assert "2 processes, newest first" in page.text
    html, multiplied = page.text.index(processes["html"]), page.text.index(processes["multiplied"])
    assert html < multiplied
    assert f"/processes/{processes['multiplied']}" in page.links
    assert f"{processes['multiplied']} Foo completed" in page.text
    assert f"{processes['html']} Gated completed" in page.text


def test_a_process_page_shows_status_result_and_history(chromium, ui, processes):
    page = Page(chromium.dom(f"{ui.url}/processes/{processes['multiplied']}"))
    assert processes["multiplied"] in page.text
    assert "Foo" in page.text
    assert "completed" in page.text
    assert "Result result 12" in page.text
    assert "Input [3, 4]" in page.text
    history = page.text[page.text.index("History") :]
    for event_type in ("process_started", "decision_started", "activity_started", "activity"):
        assert event_type in history
    assert "Multiplication completed 12" in history
    assert "attempt 1" in history


def test_html_in_an_input_or_a_result_is_shown_as_text(chromium, ui, processes):
    dom = chromium.dom(f"{ui.url}/processes/{processes['html']}")
    page = Page(dom)
    assert "b" not in page.tags and "img" not in page.tags
    assert page.tags.count("script") == 0
    assert HTML_RESULT in page.text  # the characters themselves, not markup
    assert "<img src=x onerror=alert(1)>" in page.text
    assert "hacked" not in dom.split("</title>")[0]


def test_the_live_server_refuses_a_post(ui, processes):
    for path in ("/", f"/processes/{processes['multiplied']}", "/metrics"):
        request = urllib.request.Request(ui.url + path, data=b"x=1", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 405
