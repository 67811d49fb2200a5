"""The machine's Chromium for browser tests and benchmarks: where it is and how it starts.

Debian's package (``make test`` installs it); Playwright's own browser downloads cannot run
here. The pytest plugin's ``browser`` fixture and the WebRTC helpers (``webrtc.py``) use both.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's Chromium, or ``$PEERPREP_CHROMIUM``."""
    path = os.environ.get("PEERPREP_CHROMIUM") or shutil.which("chromium")
    if not path:
        raise RuntimeError("Chromium not found: `make test` installs the Debian package chromium")
    return path


def keep_waiting_for_slow_documents(page: Any) -> None:
    """Answer "Continue waiting" whenever JupyterLab asks, as a student would: on a loaded
    machine a shared document can take long enough to sync that its "taking some time to
    load" dialog covers the page (and the buttons a test or benchmark presses)."""
    dialog = page.locator(".jp-Dialog", has_text="taking some time to load")
    page.add_locator_handler(
        dialog, lambda d: d.get_by_role("button", name="Continue waiting").click()
    )
