"""Where a pair server's Jupyter looks for configuration, extensions and settings: nowhere the
room's own code can write.

Code in a room's kernel or terminal runs as the server's user, and either student writes it.
By default Jupyter loads lab extensions from ``~/.local/share/jupyter/labextensions``, server
and page configuration from ``~/.jupyter`` and lab settings from ``~/.jupyter/lab``, all in the
room's writable home: one student could plant script there that runs in the partner's
JupyterLab page (docs/explanation/security.md, "The room page"). So a pair server's Jupyter
config and data directories are its Python environment's own, read-only in every tier; what
must stay writable (runtime files, workspaces, the file-id database) goes to the home or /tmp,
none of which is loaded as code or configuration.
"""

from __future__ import annotations

import os
from typing import Any

from .hub.auth import is_pair_user
from .room_footprint import KERNEL_CULL_SECONDS, lean_room_args

# Writable, never read as configuration: kernel connection files, the server's runtime file,
# JupyterLab's workspace layouts.
RUNTIME_ROOT = "/tmp/peerprep-room"  # noqa: S108 (a private tmpfs or container /tmp)


def pair_server_environment(python_prefix: str) -> dict[str, str]:
    """Environment of a pair server whose Python environment is ``python_prefix`` (read-only
    to the server's user: the venv bound read-only by bubblewrap, or /opt/peerprep in the
    single-user image)."""
    return {
        # The environment's own directories, already on Jupyter's search path: nothing new is
        # loaded, and nothing there is writable by the room.
        "JUPYTER_CONFIG_DIR": os.path.join(python_prefix, "etc", "jupyter"),
        "JUPYTER_DATA_DIR": os.path.join(python_prefix, "share", "jupyter"),
        # Lab user settings stay under JUPYTER_CONFIG_DIR (read-only): a room runs with the
        # defaults, and no student can change the partner's (key bindings, sanitizer, theme).
        "JUPYTER_RUNTIME_DIR": f"{RUNTIME_ROOT}/runtime",
        "JUPYTERLAB_WORKSPACES_DIR": f"{RUNTIME_ROOT}/workspaces",
        # No ~/.local/lib/python*/site-packages (and its .pth files) in the server's Python.
        "PYTHONNOUSERSITE": "1",
    }


def pair_server_args(home: str, kernel_cull_seconds: int = KERNEL_CULL_SECONDS) -> list[str]:
    """Server options that follow from a read-only data directory, and those that keep a
    room light (room_footprint.py)."""
    return [
        # jupyter-collaboration's file ids, by default in the data directory.
        f"--BaseFileIdManager.db_path={os.path.join(home, '.jupyter_fileid.db')}",
        # jupyter-collaboration 5's record of its server sessions (a reconnecting client's
        # session must be one this room's server had, or the page is asked to reload). By
        # default <root>/.jupyter/collaboration_sessions.json; named here beside the other
        # collaboration files so a room's home holds no .jupyter directory at all.
        "--YDocExtension.session_store_path="
        f"{os.path.join(home, '.jupyter_collaboration_sessions.json')}",
        # Notebook signatures, likewise. Signing keys nothing here: a student can mark a cell
        # trusted through the shared document anyway, and the room page policy is what keeps
        # a trusted output's script from running (room_page.py).
        "--NotebookNotary.db_file=:memory:",
        f"--NotebookNotary.secret_file={RUNTIME_ROOT}/runtime/notebook_secret",
        *lean_room_args(kernel_cull_seconds),
    ]


def prepare_pair_spawner(spawner: Any, python_prefix: str, home: str) -> None:
    """For a hub config's ``pre_spawn_hook`` (the Kubernetes tier): give a pair user's server
    the environment and options above; other users' servers are left alone."""
    if not is_pair_user(str(spawner.user.name)):
        return
    spawner.environment = {**spawner.environment, **pair_server_environment(python_prefix)}
    spawner.args = [*spawner.args, *pair_server_args(home)]
