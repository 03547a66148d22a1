"""Start-up stays fast by not importing what ``--help`` does not need.

Timings live in benchmarks/cli_startup.py; here only which modules load.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import subprocess_env

HEAVY = ("pyworkflow", "yaml", "structlog", "boto3", "botocore", "psycopg", "sqlite3")
EXTRAS = ("starlette", "uvicorn", "jinja2", "prometheus_client")

PROBE = """
import sys
from pyworkflow_cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(__import__("json").dumps(sorted(set(m.split(".")[0] for m in sys.modules))), file=sys.stderr)
"""


def modules_loaded(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_help_imports_nothing_heavy():
    assert modules_loaded("--help").isdisjoint(HEAVY)
    assert modules_loaded("process", "start", "--help").isdisjoint(HEAVY)


def test_the_ui_and_metrics_extras_load_only_in_the_commands_that_serve():
    assert modules_loaded("--help").isdisjoint(EXTRAS)
    assert modules_loaded("ui", "--help").isdisjoint((*HEAVY, *EXTRAS))
    assert modules_loaded("worker", "activity", "--help").isdisjoint((*HEAVY, *EXTRAS))


def test_memory_backend_does_not_import_aws_or_postgres_drivers(tmp_path):
    config = tmp_path / "memory.yaml"
    config.write_text("backend: {type: memory}\nworkflows: [pyworkflow.examples.multiplication]\n")
    loaded = modules_loaded("config", "check", "--config", str(config))
    assert "pyworkflow" in loaded
    assert loaded.isdisjoint({"boto3", "botocore", "psycopg", "structlog"})
