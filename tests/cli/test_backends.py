"""The backend factory: lazy imports, settings as arguments, wrappers in order."""

from __future__ import annotations

import pytest

import pyworkflow_cli.backends as backends
from pyworkflow.backend.memory import MemoryBackend
from pyworkflow_cli.config import parse_config
from pyworkflow_cli.errors import ConfigError


class Wrapped(MemoryBackend):
    """Stands in for a wrapper such as BlinkerBackend: takes the backend it wraps."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner


class Keywords(MemoryBackend):
    def __init__(self, **settings):
        super().__init__()
        self.settings = settings


def test_settings_are_passed_by_name(monkeypatch):
    monkeypatch.setitem(backends.BACKEND_CLASSES, "amazonswf", (__name__, "Keywords", None))
    config = parse_config(
        "backend: {type: amazonswf, domain: orders, region: eu-west-1}", "cfg.yaml", {}
    )
    backend = backends.create_backend(config)
    assert backend.settings == {"domain": "orders", "region": "eu-west-1"}


def test_wrappers_wrap_the_backend(monkeypatch):
    monkeypatch.setitem(backends.WRAPPER_CLASSES, "blinker", (__name__, "Wrapped"))
    config = parse_config("backend: {type: memory}\nwrappers: [blinker]\n", "cfg.yaml", {})
    backend = backends.create_backend(config)
    assert isinstance(backend, Wrapped)
    assert type(backend.inner) is MemoryBackend


def test_wrapper_not_landed_is_a_config_error(monkeypatch):
    monkeypatch.setitem(backends.WRAPPER_CLASSES, "blinker", ("pyworkflow.no_such", "Blinker"))
    config = parse_config("backend: {type: memory}\nwrappers: [blinker]\n", "cfg.yaml", {})
    with pytest.raises(ConfigError, match="cfg.yaml: wrapper 'blinker' is not available"):
        backends.create_backend(config)


def test_every_backend_type_in_the_schema_has_a_class():
    from pyworkflow_cli.config import BACKEND_SETTINGS

    assert set(BACKEND_SETTINGS) == set(backends.BACKEND_CLASSES)
