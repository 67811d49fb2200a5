"""The version is defined once (jupyter_peerprep/_version.py); the lab extension carries it."""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_peerprep import __version__

ROOT = Path(__file__).resolve().parents[2]


def test_labextension_version_matches_the_package():
    package = json.loads((ROOT / "labextension" / "package.json").read_text())
    assert package["version"] == __version__, (
        "labextension/package.json and jupyter_peerprep/_version.py disagree: set both"
    )
