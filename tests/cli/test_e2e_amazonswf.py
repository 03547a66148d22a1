"""The command against moto's SWF server: worker processes, start, wait, show, list."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..swf_server import fake_credentials, moto_server
from .processes import Background, run

DOMAIN = "pyworkflow-cli"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    fake_credentials()
    with moto_server() as url:
        import boto3

        boto3.client("swf", endpoint_url=url).register_domain(
            name=DOMAIN, workflowExecutionRetentionPeriodInDays="1"
        )
        yield url


@pytest.fixture
def config(tmp_path: Path, endpoint: str) -> str:
    path = tmp_path / "pyworkflow.yaml"
    path.write_text(
        "backend:\n"
        "  type: amazonswf\n"
        f"  domain: {DOMAIN}\n"
        "  region: us-east-1\n"
        f"  endpoint_url: {endpoint}\n"
        "workflows:\n"
        "  - pyworkflow.examples.multiplication\n"
        "logging:\n"
        "  format: json\n"
    )
    return str(path)


def test_workers_start_wait_show_and_list(tmp_path: Path, config: str) -> None:
    workers = [
        Background(tmp_path / f"{kind}.log", "worker", kind, "--config", config)
        for kind in ("activity", "decision")
    ]
    try:
        started = run("process", "start", "Foo", "--input", "[3,4]", "--config", config)
        assert started.returncode == 0, started.stderr
        process_id = started.stdout.strip()

        waited = run("process", "wait", process_id, "--timeout", "60", "--config", config)
        assert waited.returncode == 0, waited.stderr
        assert waited.stdout == "12\n"

        shown = run("process", "show", process_id, "--json", "--config", config)
        assert shown.returncode == 0, shown.stderr
        data = json.loads(shown.stdout)
        assert data["status"] == "completed"
        assert data["result"] == {"type": "completed", "result": 12}

        listed = run("process", "list", "--status", "closed", "--config", config)
        assert listed.returncode == 0, listed.stderr
        assert process_id in listed.stdout
        for worker in workers:
            worker.signal(signal.SIGTERM)
        assert [worker.wait() for worker in workers] == [0, 0]
    finally:
        for worker in workers:
            worker.kill()
