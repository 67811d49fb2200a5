"""docs/reference/configuration.md is generated from the traits and must stay in step."""

from __future__ import annotations

from pathlib import Path

from jupyter_peerprep.configdocs import render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "configuration.md"


def test_configuration_reference_is_up_to_date():
    assert PAGE.read_text() == render(), (
        "docs/reference/configuration.md is stale: run "
        "`.venv/bin/python -m jupyter_peerprep.configdocs > docs/reference/configuration.md`"
    )


def test_every_trait_has_help():
    page = render()
    for line in page.splitlines():
        if line.startswith("| `"):
            assert not line.rstrip().endswith("|  |"), f"trait without help: {line}"
