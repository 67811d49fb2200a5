# Production settings for a hub that real students use (one host or a cluster).
#
# Active only when PEERPREP_PRODUCTION=1 (docker/compose.yaml sets it); without it this file
# changes nothing. It fails the hub's start, naming the variable, when a required secret or
# database is missing, instead of quietly falling back to the embedded default's SQLite.
#
# Environment variables:
#   PEERPREP_HUB_DB_URL     required: the hub's own database, PostgreSQL,
#                           e.g. postgresql+psycopg://jupyterhub:PASSWORD@db:5432/jupyterhub
#   PEERPREP_DB_URL         required: the PeerPrep service database (PostgreSQL; 20-peerprep.py
#                           passes it to the service), e.g. postgresql+psycopg://peerprep:...
#   JPY_COOKIE_SECRET       the hub's cookie secret (64 hex characters, `openssl rand -hex 32`);
#                           read by JupyterHub itself. Without it the secret is generated once
#                           into the state volume (jupyterhub_cookie_secret, mode 0600).
#   CONFIGPROXY_AUTH_TOKEN  shared secret between the hub and the proxy (required when the
#                           proxy runs in its own container; read by JupyterHub and the proxy)
#   JUPYTERHUB_CRYPT_KEY    optional: encrypts auth_state (needed by LTI/OAuth authenticators
#                           that keep tokens), `openssl rand -hex 32`
#   PEERPREP_PROXY_API_URL  the proxy's REST API when it runs in its own container
#                           (e.g. http://proxy:8001); the hub then does not start a proxy
#   PEERPREP_EXTERNAL_URL   the URL students open, e.g. https://peerprep.example.edu;
#                           required unless PEERPREP_SUBDOMAIN_HOST is set
#   PEERPREP_SUBDOMAIN_HOST where servers live: each user's server on its own subdomain of it
#                           (needs a wildcard DNS entry and TLS certificate for
#                           *.peerprep.example.edu). Default: PEERPREP_EXTERNAL_URL. Servers
#                           on subdomains are what keeps HTML one student writes into a room
#                           from running on the hub's origin (docs/explanation/security.md)
#   PEERPREP_SUBDOMAINS     "off" serves servers on paths of one origin instead: only for
#                           users who trust each other; the hub logs a warning
#   PEERPREP_SSL_CERT / PEERPREP_SSL_KEY  optional: let the proxy terminate TLS itself. Usually
#                           TLS ends at a reverse proxy in front (docs/how-to/deploy-docker.md)
#   PEERPREP_CONCURRENT_SPAWNS  spawns in flight at once (default 20)
#   PEERPREP_ACTIVE_SERVER_LIMIT  running servers at most, 0 = no limit (default 0)
import os

c = get_config()


def _require(name, why):
    value = os.environ.get(name, "")
    if not value:
        raise ValueError(
            f"PEERPREP_PRODUCTION=1 needs {name}: {why} (docs/how-to/deploy-docker.md)."
        )
    return value


if os.environ.get("PEERPREP_PRODUCTION", "") == "1":
    _hub_db = _require("PEERPREP_HUB_DB_URL", "the hub database, a postgresql:// URL")
    _service_db = _require("PEERPREP_DB_URL", "the PeerPrep service database, a postgresql:// URL")
    for _name, _url in (("PEERPREP_HUB_DB_URL", _hub_db), ("PEERPREP_DB_URL", _service_db)):
        if not _url.startswith(("postgresql", "postgres:")):
            raise ValueError(
                f"{_name} must be a postgresql:// URL in production (SQLite on a shared "
                f"volume loses writes under load); got a {_url.split(':', 1)[0]}:// URL."
            )

    c.JupyterHub.db_url = _hub_db
    # Hub upgrades migrate the hub database on start (back it up first:
    # docs/how-to/backup-restore.md). The service runs its own Alembic migrations on start.
    c.JupyterHub.upgrade_db = True

    # Restarting the hub (an upgrade, a config change) must not end every room in progress:
    # servers keep running and the hub finds them again (DockerSpawner/KubeSpawner keep state).
    c.JupyterHub.cleanup_servers = False

    # Cookie secret: JPY_COOKIE_SECRET if set (JupyterHub reads it), else the file in the state
    # volume that 00-base.py names, created once with mode 0600 and kept across restarts.
    # The proxy's token: CONFIGPROXY_AUTH_TOKEN, read by JupyterHub and the proxy alike.
    _proxy_api = os.environ.get("PEERPREP_PROXY_API_URL", "")
    if _proxy_api:
        _require("CONFIGPROXY_AUTH_TOKEN", "the secret shared with the external proxy")
        c.ConfigurableHTTPProxy.should_start = False
        c.ConfigurableHTTPProxy.api_url = _proxy_api
        # The proxy keeps its routes; the hub must not delete them when it restarts.
        c.JupyterHub.cleanup_proxy = False

    if os.environ.get("PEERPREP_EXTERNAL_URL"):
        c.JupyterHub.public_url = os.environ["PEERPREP_EXTERNAL_URL"]
    # Servers on subdomains by default: one origin per user, none shared with the hub.
    if os.environ.get("PEERPREP_SUBDOMAINS", "") == "off":
        import logging

        logging.getLogger("JupyterHub").warning(
            "PEERPREP_SUBDOMAINS=off: every server shares the hub's origin, so HTML a student "
            "writes into a room can act as the partner at the hub. Only for trusted users."
        )
    else:
        c.JupyterHub.subdomain_host = os.environ.get("PEERPREP_SUBDOMAIN_HOST") or _require(
            "PEERPREP_EXTERNAL_URL",
            "the URL students open; servers are served on its subdomains (wildcard DNS and "
            "certificate), or set PEERPREP_SUBDOMAIN_HOST",
        )

    # HTTPS: terminate TLS in front of the proxy (Caddy, nginx, a cloud load balancer) and
    # forward to port 8000, or hand the proxy a certificate here.
    if os.environ.get("PEERPREP_SSL_CERT"):
        c.JupyterHub.ssl_cert = os.environ["PEERPREP_SSL_CERT"]
        c.JupyterHub.ssl_key = _require("PEERPREP_SSL_KEY", "the key of PEERPREP_SSL_CERT")
    # Behind TLS the hub's cookies must not travel over plain HTTP.
    if os.environ.get("PEERPREP_EXTERNAL_URL", "").startswith("https://") or os.environ.get(
        "PEERPREP_SSL_CERT"
    ):
        c.JupyterHub.tornado_settings = {
            "cookie_options": {"secure": True, "samesite": "Lax"},
            "headers": {"Strict-Transport-Security": "max-age=31536000"},
        }

    # Spawning storms (a lecture starting) queue instead of overloading the engine.
    c.JupyterHub.concurrent_spawn_limit = int(os.environ.get("PEERPREP_CONCURRENT_SPAWNS", "20"))
    c.JupyterHub.active_server_limit = int(os.environ.get("PEERPREP_ACTIVE_SERVER_LIMIT", "0"))
    # Idle student servers are stopped by jupyterhub-idle-culler when installed; pair servers
    # are stopped by the PeerPrep service when a session ends.
    c.JupyterHub.log_level = os.environ.get("PEERPREP_HUB_LOG_LEVEL", "INFO")
