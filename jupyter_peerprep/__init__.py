"""PeerPrep: practise technical interviews in pairs on JupyterHub.

The package holds three things that run in different processes:

- ``jupyter_peerprep.hub``: the PeerPrep hub service (matching, rooms, grading, history),
  a JupyterHub-managed Tornado service;
- the Jupyter server extension (``jupyter_peerprep.extension``), loaded in every student and
  pair server, which relays the lab extension's requests to the service;
- the prebuilt JupyterLab extension in ``jupyter_peerprep/labextension`` (sources in
  ``labextension/`` at the top of the repository).
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-peerprep"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .extension import PeerPrepExtension

    return [{"module": "jupyter_peerprep", "app": PeerPrepExtension}]
