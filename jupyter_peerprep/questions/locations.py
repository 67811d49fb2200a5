"""Where the shipped question bank can be on disk, and so where no server or sandbox may look.

The bank (hidden tests, reference solutions) is read only by the service. The wheel does not
carry it, so ``pip install jupyter_peerprep`` in a single-user image brings no solution along;
it lives next to the package in a source checkout, and the hub image copies it to
``<prefix>/share/jupyter_peerprep/question_bank``. Older wheels and editable installs kept a
copy inside the installed package: still listed here, so sandboxes hide a stale one.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def bank_locations() -> list[Path]:
    """Every place a shipped bank may be, existing or not, the preferred first."""
    prefix_share = Path(sys.prefix) / "share" / "jupyter_peerprep" / "question_bank"
    installed = Path(sysconfig.get_paths()["purelib"]) / "jupyter_peerprep" / "question_bank"
    candidates = [
        PACKAGE_DIR.parent / "question_bank",  # a source checkout (make run)
        prefix_share,  # the hub image
        PACKAGE_DIR / "question_bank",  # inside the package: older wheels, editable installs
        installed,
    ]
    unique: list[Path] = []
    for path in candidates:
        if path not in unique:
            unique.append(path)
    return unique
