"""``pyworkflow ui`` as a command: what it needs installed, and where it listens."""

from __future__ import annotations

import socket
import sys

import pytest

from .processes import run


@pytest.mark.parametrize("module", ["starlette", "uvicorn", "jinja2", "prometheus_client"])
def test_without_the_ui_extra_it_says_which_install_is_missing(invoke, monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # what an interpreter without it answers
    result = invoke("ui")
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"Error: pyworkflow ui needs the {module} package, which is not installed: "
        "pip install 'pyworkflow[ui]'"
    )


def test_without_prometheus_client_worker_metrics_say_which_install_is_missing(
    invoke, memory_config, monkeypatch
):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    result = invoke("worker", "all", "--config", memory_config, "--metrics-port", "0")
    assert result.exit_code == 2
    assert "Error: --metrics-port needs the prometheus_client package" in result.output
    assert "pip install 'pyworkflow[metrics]'" in result.output


def test_a_taken_port_is_a_one_line_error(tmp_path, memory_config):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run("ui", "--port", port, "--config", memory_config, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_a_database_that_does_not_exist_is_not_created(tmp_path):
    config = tmp_path / "missing.yaml"
    config.write_text(f"backend: {{type: sqlite, path: {tmp_path / 'nothing.db'}}}\n")
    result = run("ui", "--config", str(config), "--port", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert not (tmp_path / "nothing.db").exists()
