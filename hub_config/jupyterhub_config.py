# JupyterHub configuration of PeerPrep's embedded default (what `make run` starts).
#
# This file only loads the snippets in jupyterhub_config.d/ in sorted order, the way
# The Littlest JupyterHub does. Each snippet is one concern and documents its settings:
#
#   00-base.py       where the hub listens, its state directory, the Node proxy, branding
#   10-auth.py       NativeAuthenticator with open sign-up, the admin and instructors
#   20-peerprep.py   the PeerPrep hub service, its role, and what spawned servers need
#   30-spawner.py    local sandboxed process spawning (one home per user under the state dir)
#
# Deployment tiers add their own snippets (docker, production); a university adding PeerPrep to
# an existing hub loads 20-peerprep.py only (docs/how-to/add-to-existing-hub.md).
#
# Environment variables read by the snippets (all optional):
#   PEERPREP_STATE_DIR      state directory (default: ./.peerprep next to this repository)
#   PEERPREP_PORT           public port of the proxy (default 8000)
#   PEERPREP_IP             public IP (default 127.0.0.1)

import glob
import os

c = get_config()

# load_subconfig gives each snippet its own namespace with its own __file__; snippets share
# values through environment variables (PEERPREP_*), so any of them also loads on its own.
_here = os.path.dirname(os.path.abspath(__file__))
for _snippet in sorted(glob.glob(os.path.join(_here, "jupyterhub_config.d", "*.py"))):
    load_subconfig(_snippet)
