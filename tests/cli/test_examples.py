"""The documented and bundled configs are valid and document every key."""

from __future__ import annotations

import re
from pathlib import Path

from pyworkflow_cli import config as schema
from pyworkflow_cli.config import load_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.yaml"


def test_config_example_is_valid():
    config = load_config(str(EXAMPLE), {})
    assert config.backend.type == "sqlite"
    assert config.workflows == ("pyworkflow.examples.multiplication",)


def test_config_example_documents_every_key():
    text = EXAMPLE.read_text()
    documented = set(re.findall(r"^[#\s]*([a-z_]+):", text, flags=re.MULTILINE))
    keys = set(schema._TOP_KEYS) | set(schema._LOGGING_KEYS) | {"type"}
    keys |= {key for settings in schema.BACKEND_SETTINGS.values() for key in settings}
    keys |= {key for names in schema._WORKER_KEYS.values() for key in names} | set(
        schema._WORKER_KEYS
    )
    assert keys <= documented, sorted(keys - documented)
    for name in (*schema.BACKEND_SETTINGS, *schema.WRAPPERS, *schema.LOG_FORMATS):
        assert name in text


def test_bundled_example_is_valid():
    bundled = REPO / "pyworkflow_cli" / "examples" / "multiplication.yaml"
    config = load_config(str(bundled), {"PYWORKFLOW_DB": "/tmp/x.db"})
    assert config.backend.settings == {"path": "/tmp/x.db"}
    assert load_config(str(bundled), {}).backend.settings == {"path": "pyworkflow.db"}
