"""SQLiteBackend(create=False) opens an existing database and never makes one."""

from __future__ import annotations

import pytest

from pyworkflow.backend.sqlite import SQLiteBackend
from pyworkflow.exceptions import BackendConfigurationError


def test_missing_database_is_refused_and_not_created(tmp_path):
    path = tmp_path / "missing.db"
    with pytest.raises(BackendConfigurationError, match="database .*missing.db does not exist"):
        SQLiteBackend(path, create=False)
    assert list(tmp_path.iterdir()) == []


def test_existing_database_opens(tmp_path):
    path = tmp_path / "w.db"
    SQLiteBackend(path).close()
    backend = SQLiteBackend(path, create=False)
    try:
        assert list(backend.processes()) == []
    finally:
        backend.close()


def test_default_still_creates(tmp_path):
    SQLiteBackend(tmp_path / "new.db").close()
    assert (tmp_path / "new.db").exists()
