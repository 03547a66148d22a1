"""A signal while a command waits for a process stops the wait with 128 + its
number, never 1 (which says the process failed), and leaves the process open."""

from __future__ import annotations

import os
import signal

import pytest


@pytest.fixture
def signal_while_waiting(shared_backend, monkeypatch):
    """Send the given signal to this process the first time the command waits.

    Should the command install no handler, SIGTERM raises here rather than
    ending the test run.
    """

    def unhandled(signum, frame):
        raise RuntimeError(f"{signal.Signals(signum).name} reached no handler of the command")

    previous = signal.signal(signal.SIGTERM, unhandled)

    def arm(signum):
        def wait_for_work(timeout, task_list=None):
            os.kill(os.getpid(), signum)
            return False

        monkeypatch.setattr(shared_backend, "wait_for_work", wait_for_work)

    yield arm
    signal.signal(signal.SIGTERM, previous)


def start(invoke, config):
    result = invoke("process", "start", "Gated", "--input", "{}", "--config", config)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_process_wait(invoke, memory_config, shared_backend, signal_while_waiting, signum, code):
    process_id = start(invoke, memory_config)
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal_while_waiting(signum)

    result = invoke("process", "wait", process_id, "--config", memory_config)

    assert result.exit_code == code
    assert result.stderr.strip() == f"Interrupted: stopped waiting for process {process_id}."
    assert "Aborted" not in result.output
    assert shared_backend.process_by_id(process_id).is_open
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_process_start_wait(invoke, memory_config, signal_while_waiting):
    signal_while_waiting(signal.SIGINT)
    result = invoke("process", "start", "Gated", "--input", "{}", "--wait", "-c", memory_config)
    assert result.exit_code == 130
    assert result.stderr.startswith("Interrupted: stopped waiting for process ")


def test_ctrl_c_anywhere_else_exits_130(invoke, memory_config, shared_backend, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(shared_backend, "processes", interrupted)
    result = invoke("process", "list", "--config", memory_config)
    assert result.exit_code == 130
    assert result.stderr.strip() == "Interrupted."
