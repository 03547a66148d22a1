"""The PostgreSQL driver is an extra, and the command names the extra when a
driver is missing. boto3 is a chosen dependency: the SWF backend is one of the
product's own, and boto3 is imported only when it is used."""

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


def test_the_postgres_driver_is_not_required(project):
    assert "psycopg" not in requirement_names(project["dependencies"])
    assert "psycopg" in requirement_names(project["optional-dependencies"]["postgres"])


@pytest.mark.parametrize("kind", sorted(BACKEND_CLASSES))
def test_every_driver_extra_exists(project, kind):
    extra = BACKEND_CLASSES[kind][2]
    if extra is not None:
        assert extra in project["optional-dependencies"]


def test_metadata_is_complete(project):
    # An SPDX expression: the table form is deprecated and warned about by setuptools.
    assert project["license"] == "MIT"
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])
    assert any(c.startswith("Programming Language :: Python :: 3.") for c in project["classifiers"])
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # SPDX says it


def test_the_build_backend_understands_an_spdx_license():
    tomllib = pytest.importorskip("tomllib")
    [requirement] = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    assert requirement.replace(" ", "") == "setuptools>=77"


def test_the_ui_extra_and_its_files_ship_in_the_wheel():
    import fnmatch

    tomllib = pytest.importorskip("tomllib")
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    extras = pyproject["project"]["optional-dependencies"]
    assert {"starlette", "uvicorn", "jinja2"} <= requirement_names(extras["ui"])
    assert "prometheus_client" in requirement_names(extras["metrics"])
    assert requirement_names(extras["ui"]) | requirement_names(extras["metrics"]) <= (
        requirement_names(extras["test"])
    )
    patterns = pyproject["tool"]["setuptools"]["package-data"]["pyworkflow_cli"]
    package = REPO / "pyworkflow_cli"
    shipped = [
        path.relative_to(package).as_posix()
        for folder in ("ui/templates", "ui/static")
        for path in (package / folder).iterdir()
    ]
    assert shipped
    for name in shipped:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
