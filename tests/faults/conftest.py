"""The fault suite's shared hub (one for every room and service fault, session-scoped)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fault_support import wait_for_questions_of, write_service_config

from jupyter_peerprep.testing.faults import hub_student


@dataclass
class FaultHub:
    """The suite's hub and the switches its faults use."""

    hub: Any
    database: Path  # the service's SQLite file, on a small file system of its own
    disk: Path  # that file system's mount point (fill it to make the disk full)
    grader_hangs: Path  # while this file exists, every grader sandbox hangs

    @property
    def url(self) -> str:
        return str(self.hub.url)


GRADER_WRAPPER = """#!/bin/sh
# bwrap, except while {marker} exists: then hang, deaf to SIGTERM, as a stuck grader would.
if [ -e {marker} ]; then trap '' TERM INT HUP; sleep 3600; fi
exec {bwrap} "$@"
"""


@pytest.fixture(scope="session")
def fault_hub(make_hub: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultHub]:
    """One embedded hub (local sandboxed servers) shared by the whole fault suite. Its service
    database lives on a 64 MB tmpfs (so a test can fill the disk), and its grader runs bwrap
    through a wrapper that hangs on demand."""
    work = tmp_path_factory.mktemp("faults")
    disk = work / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], check=True)
    # The grader runs bwrap as an unprivileged user: the wrapper must be reachable by it.
    reachable = Path(tempfile.mkdtemp(prefix="peerprep-faults-"))
    reachable.chmod(0o755)
    marker = reachable / "grader-hangs"
    wrapper = reachable / "bwrap-wrapper"
    bwrap = shutil.which("bwrap") or "/usr/bin/bwrap"
    wrapper.write_text(GRADER_WRAPPER.format(marker=marker, bwrap=bwrap))
    wrapper.chmod(0o755)
    database = disk / "peerprep.sqlite"
    config = write_service_config(
        work,
        f"c.BwrapSandbox.bwrap_path = {str(wrapper)!r}\n",
    )
    try:
        hub = make_hub(
            extra_env={
                "PEERPREP_SERVICE_CONFIG": str(config),
                "PEERPREP_DB_URL": f"sqlite:///{database}",
            }
        )
        wait_for_questions_of(hub_student(hub.url, "first"))
        yield FaultHub(hub=hub, database=database, disk=disk, grader_hangs=marker)
        hub.stop()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        shutil.rmtree(reachable, ignore_errors=True)
