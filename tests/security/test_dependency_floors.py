"""The installed Jupyter stack is at or above the floors pyproject.toml sets for security.

The floors are versions without known advisories (the commit that raised them names each);
an environment built before they were raised fails here instead of running a vulnerable hub.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
# jupyter-collaboration and jupyterlab-chat serve the room's shared document and its chat to
# both students: an older one than the floor must not run a room either.
GUARDED = {
    "jupyterhub",
    "jupyter-server",
    "jupyterlab",
    "tornado",
    "jupyter-collaboration",
    "jupyterlab-chat",
}


def guarded_requirements() -> list[Requirement]:
    data = tomllib.loads(PYPROJECT.read_text())
    project = data["project"]
    texts = [*project["dependencies"], *project["optional-dependencies"]["hub"]]
    found = [Requirement(t) for t in texts]
    return [r for r in found if r.name.replace("_", "-").lower() in GUARDED]


def test_every_guarded_package_has_a_floor():
    names = {r.name.replace("_", "-").lower() for r in guarded_requirements()}
    assert names == GUARDED
    for requirement in guarded_requirements():
        assert any(s.operator == ">=" for s in requirement.specifier), requirement


@pytest.mark.parametrize("requirement", guarded_requirements(), ids=str)
def test_installed_version_meets_the_floor(requirement):
    installed = version(requirement.name)
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"{requirement.name} {installed} is installed but pyproject.toml needs {requirement}; "
        f"run `make setup` again"
    )
