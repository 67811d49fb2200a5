"""Print the requirements of a wheel (its Requires-Dist) for the given extras, one a line.

Used by the hub and single-user Dockerfiles to install PeerPrep's dependencies in a layer of
their own, before the wheel itself, so a change in PeerPrep's code does not reinstall them:

    python3 wheel_requirements.py dist/jupyter_peerprep-0.1.0-py3-none-any.whl "hub,docker"
"""

from __future__ import annotations

import re
import sys
import zipfile


def requirements(wheel: str, extras: set[str]) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    selected = []
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        requirement, _, marker = line.split(":", 1)[1].strip().partition(";")
        wanted = re.findall(r"""extra\s*==\s*['"]([^'"]+)['"]""", marker)
        if not wanted or set(wanted) & extras:
            selected.append(requirement.strip())
    return selected


if __name__ == "__main__":
    extras = {e.strip() for e in (sys.argv[2] if len(sys.argv) > 2 else "").split(",") if e}
    print("\n".join(requirements(sys.argv[1], extras)))
