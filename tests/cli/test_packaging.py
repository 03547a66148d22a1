"""Installing pyworkflow pulls in only what every user needs; backend drivers
are extras, and the command names the extra when a driver is missing."""

from __future__ import annotations

import pytest

from pyworkflow_cli.backends import BACKEND_CLASSES

from .conftest import REPO


@pytest.fixture(scope="module")
def project():
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def requirement_names(requirements):
    return {requirement.split("[")[0].split(">")[0].split("=")[0] for requirement in requirements}


def test_backend_drivers_are_not_required(project):
    assert requirement_names(project["dependencies"]).isdisjoint({"boto3", "psycopg"})


@pytest.mark.parametrize("kind", sorted(BACKEND_CLASSES))
def test_every_driver_extra_exists(project, kind):
    extra = BACKEND_CLASSES[kind][2]
    if extra is not None:
        assert extra in project["optional-dependencies"]
