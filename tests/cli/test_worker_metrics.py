"""``pyworkflow worker ... --metrics-port``: scrape a worker process that ran tasks."""

from __future__ import annotations

import signal
import urllib.request
from pathlib import Path

import pytest

from .processes import Background, eventually, run

pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "pyworkflow.yaml"
    path.write_text(
        f"backend: {{type: sqlite, path: {tmp_path / 'workflows.db'}}}\n"
        "workflows: [pyworkflow.examples.multiplication]\n"
        "logging: {format: json}\n"
    )
    return str(path)


DECIDED = {"kind": "decision", "name": "Foo", "outcome": "completed"}


def metrics_url(worker: Background) -> str:
    eventually(lambda: worker.logged(lambda r: "metrics_url" in r), "the metrics server")
    [url] = [r["metrics_url"] for r in worker.log_records() if "metrics_url" in r]
    return url


def samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_worker_serves_counters_and_a_histogram_of_the_tasks_it_ran(tmp_path, config):
    worker = Background(
        tmp_path / "worker.log", "worker", "all", "--config", config, "--metrics-port", "0"
    )
    try:
        url = metrics_url(worker)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/metrics")
        for numbers, code in (("[3,4]", 0), ("[11,4]", 1)):  # 11 > 10: the activity cancels
            started = run("process", "start", "Foo", "--input", numbers, "--config", config)
            waited = run("process", "wait", started.stdout.strip(), "--config", config)
            assert waited.returncode == code, waited.stderr
        # The process closes as the last decision is recorded; the worker counts it just after.
        decided = ("pyworkflow_tasks_total", frozenset(DECIDED.items()))
        eventually(lambda: samples(url).get(decided) == 4, "the last decision counted")
        scraped = samples(url)
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.wait() == 0

    def value(metric: str, **labels: str) -> float | None:
        return scraped.get((metric, frozenset(labels.items())))

    activity = {"kind": "activity", "name": "Multiplication"}
    assert value("pyworkflow_tasks_total", **activity, outcome="completed") == 1
    assert value("pyworkflow_tasks_total", **activity, outcome="canceled") == 1
    assert value("pyworkflow_task_duration_seconds_count", **activity) == 2
    assert value("pyworkflow_task_duration_seconds_bucket", **activity, le="+Inf") == 2
    assert value("pyworkflow_task_duration_seconds_count", kind="decision", name="Foo") == 4
    assert value("pyworkflow_polls_total", kind="activity", result="task") == 2
    assert value("pyworkflow_polls_total", kind="decision", result="task") == 4
    assert value("pyworkflow_tasks_in_flight", kind="activity") == 0


def test_the_metrics_port_can_come_from_the_config(tmp_path, config):
    section = "workers: {decision: {metrics_port: 0, metrics_host: localhost}}\n"
    Path(config).write_text(Path(config).read_text() + section)
    worker = Background(tmp_path / "worker.log", "worker", "decision", "--config", config)
    try:
        url = metrics_url(worker)
        assert url.startswith("http://localhost:")
        empty = frozenset({"kind": "decision", "result": "empty"}.items())
        polled = ("pyworkflow_polls_total", empty)
        eventually(lambda: polled in samples(url), "an empty poll counted")
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.wait() == 0


def test_a_taken_port_is_a_one_line_error(tmp_path, config):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run("worker", "activity", "--config", config, "--metrics-port", port)
    assert result.returncode == 2
    assert f"Error: cannot serve metrics on 127.0.0.1:{port}: " in result.stderr
    assert "Traceback" not in result.stderr
