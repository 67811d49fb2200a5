"""Which tests share a pytest-xdist worker (``make pytest`` runs ``-n N --dist loadgroup``).

A test joins a group by the fixtures it uses, so a new test that takes ``security_hub`` lands
on that hub's worker without a mark of its own; an explicit ``@pytest.mark.xdist_group("x")``
wins. Tests of one group run one after another on one worker; tests in no group go to any
free worker. See docs/how-to/run-the-tests.md for the list and the reasons.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest
from packaging.version import Version

# Session-scoped hubs: every worker that runs one of their tests starts its own copy (a hub, a
# spawned admin server, for docker_hub a network and a container hub), so their tests share one
# worker. The first fixture a test uses in this order names its group.
SESSION_FIXTURE_GROUPS = {
    "docker_hub": "container-tier",
    "fault_hub": "fault-hub",
    "security_hub": "security-hub",
    "subdomain_hub": "subdomain-hub",
    "peerprep_hub": "peerprep-hub",
}

# Module-scoped hubs: the module's tests stay together, so the hub starts once.
MODULE_FIXTURES = ("room_hub", "pg_hub")

# Folders whose tests measure time or load the CPU on purpose (fifty concurrent sandboxes,
# fork bombs, memory hogs, timing-based complexity checks): one worker runs them one at a
# time, so they never compete with each other.
FOLDER_GROUPS = {
    "tests/sandbox/": "sandbox",
    "tests/grader/test_complexity.py": "sandbox",
    "tests/grader/test_kernel_limits.py": "sandbox",
    "tests/security/test_complexity_forgery.py": "sandbox",
}


def group_of(item: pytest.Item) -> str | None:
    """The xdist group of ``item`` (None: any worker)."""
    fixtures = set(getattr(item, "fixturenames", ()))
    for fixture, group in SESSION_FIXTURE_GROUPS.items():
        if fixture in fixtures:
            return group
    path = item.nodeid.split("::", 1)[0]
    if fixtures.intersection(MODULE_FIXTURES):
        return f"module:{path}"
    for prefix, group in FOLDER_GROUPS.items():
        if path.startswith(prefix):
            return group
    return None


def pytest_configure(config: pytest.Config) -> None:
    # Known bad pair (pytest-dev/pytest-xdist#1386): pytest 9.2 ignores the "@group" suffix
    # pytest-xdist 3.8 gives test ids, so every group would be spread over every worker.
    if config.getoption("dist", "no") != "loadgroup":
        return
    import xdist

    too_new = Version(pytest.__version__) >= Version("9.2")
    if too_new and Version(xdist.__version__) < Version("3.9"):
        raise pytest.UsageError(
            f"--dist loadgroup does not group with pytest {pytest.__version__} and pytest-xdist "
            f"{xdist.__version__} (pytest-dev/pytest-xdist#1386): run `make setup` to install "
            "the versions pyproject.toml allows."
        )


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, None, None]:
    # A wrapper: the marks go on before pytest-xdist's own hook reads them to place each test.
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            group = group_of(item)
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))
    yield
    # pytest-xdist hands a group to its scheduler as a "@group" suffix of the test id; when a
    # pytest release stops that from working, fail loudly rather than start every hub per worker.
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is not None and "@" not in item.nodeid:
            raise pytest.UsageError(
                f"pytest-xdist could not group {item.nodeid}: this pytest and pytest-xdist do "
                "not work together for --dist loadgroup (pytest-dev/pytest-xdist#1386). Run "
                "`make setup` to install the versions pyproject.toml allows."
            )
