# Base of the embedded default: where the hub listens and keeps its state.
import os
import shutil
import sys

c = get_config()

# State directory: hub database, cookie secret, homes of users, the service database.
HUB_CONFIG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERPREP_STATE_DIR = os.path.abspath(
    os.environ.get("PEERPREP_STATE_DIR", os.path.join(HUB_CONFIG_DIR, "..", ".peerprep"))
)
os.makedirs(PEERPREP_STATE_DIR, exist_ok=True)
os.environ["PEERPREP_STATE_DIR"] = PEERPREP_STATE_DIR

# Everything binds to loopback unless told otherwise.
c.JupyterHub.ip = os.environ.get("PEERPREP_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("PEERPREP_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("PEERPREP_HUB_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{int(os.environ.get('PEERPREP_PROXY_API_PORT', '8001'))}"
)

c.JupyterHub.db_url = os.environ.get(
    "PEERPREP_HUB_DB_URL", f"sqlite:///{os.path.join(PEERPREP_STATE_DIR, 'jupyterhub.sqlite')}"
)
c.JupyterHub.cookie_secret_file = os.path.join(PEERPREP_STATE_DIR, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(PEERPREP_STATE_DIR, "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = os.path.join(PEERPREP_STATE_DIR, "jupyterhub-proxy.pid")

# The Node configurable-http-proxy from npm, installed by `make` into .venv/node. The PyPI
# port forwards binary websocket frames as text, which breaks real-time collaboration.
_chp = os.path.join(sys.prefix, "node", "node_modules", ".bin", "configurable-http-proxy")
if not os.path.exists(_chp):
    _chp = shutil.which("configurable-http-proxy") or _chp
c.ConfigurableHTTPProxy.command = [_chp]

# Each server on its own subdomain (<user>.<domain>), so a page one student's server serves
# runs on another origin than the hub and every other server (docs/explanation/security.md).
# Production turns this on by default (60-production.py); the embedded default stays on paths
# unless PEERPREP_SUBDOMAIN_HOST is set, e.g. http://localhost:8000 (browsers resolve
# *.localhost to the loopback).
if os.environ.get("PEERPREP_SUBDOMAIN_HOST"):
    c.JupyterHub.subdomain_host = os.environ["PEERPREP_SUBDOMAIN_HOST"]

# Stop a hub quickly: do not leave single-user servers behind when the hub stops (local tier).
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# After log-in the hub sends students straight to their server (spawning it, with progress),
# and the server opens JupyterLab, where the PeerPrep panel opens.
c.Spawner.default_url = "/lab"

# Branding on the hub's pages (login, sign-up, home).
c.JupyterHub.template_paths = [os.path.join(HUB_CONFIG_DIR, "templates")]
c.JupyterHub.template_vars = {"peerprep_name": "PeerPrep"}
