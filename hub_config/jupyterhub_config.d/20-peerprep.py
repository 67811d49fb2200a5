# The PeerPrep hub service, managed by JupyterHub, and what spawned servers need to reach it.
#
# This is the one snippet an existing hub loads to add PeerPrep
# (docs/how-to/add-to-existing-hub.md). It reads:
#   PEERPREP_SERVICE_PORT  port of the service on 127.0.0.1 (default 10101)
#   PEERPREP_SERVICE_BIND_IP  where it listens (127.0.0.1; 0.0.0.0 with PEERPREP_TIER=docker)
#   PEERPREP_STATE_DIR     passed on to the service (its SQLite database lives there)
#   PEERPREP_DB_URL        the service database (default: SQLite in the state directory)
#   PEERPREP_SERVICE_CONFIG a peerprep_config.py for the service (matching times, rooms, ...)
#   PEERPREP_LOG_STYLE, PEERPREP_METRICS_TOKEN, PEERPREP_COOKIE_SECRET, DOCKER_HOST: passed on
import os
import sys

c = get_config()

PEERPREP_SERVICE_PORT = int(os.environ.get("PEERPREP_SERVICE_PORT", "10101"))
PEERPREP_SERVICE_URL = f"http://127.0.0.1:{PEERPREP_SERVICE_PORT}"
# Where the service listens: the hub's loopback, or every interface of the hub container when
# servers run in containers and reach it by the hub's name (50-docker.py).
PEERPREP_SERVICE_BIND_IP = os.environ.get(
    "PEERPREP_SERVICE_BIND_IP",
    "0.0.0.0" if os.environ.get("PEERPREP_TIER") == "docker" else "127.0.0.1",  # noqa: S104
)

_service_env = {
    k: os.environ[k]
    for k in (
        "PEERPREP_STATE_DIR",
        "PEERPREP_DB_URL",
        "PEERPREP_SERVICE_CONFIG",
        "PEERPREP_LOG_STYLE",
        "PEERPREP_METRICS_TOKEN",
        "PEERPREP_COOKIE_SECRET",
        "DOCKER_HOST",
        "PATH",
    )
    if k in os.environ
}
# Where the service reaches single-user servers (to write a room's notebook): the proxy.
_service_env["PEERPREP_PUBLIC_URL"] = os.environ.get(
    "PEERPREP_PUBLIC_URL",
    f"http://127.0.0.1:{os.environ.get('PEERPREP_PORT', '8000')}",
)

# append/extend/update merge with what other config files set (traitlets LazyConfigValue).
c.JupyterHub.services.append(
    {
        "name": "peerprep",
        "url": PEERPREP_SERVICE_URL,
        "command": [
            sys.executable,
            "-m",
            "jupyter_peerprep.hub.app",
            f"--ip={PEERPREP_SERVICE_BIND_IP}",
        ]
        + (
            [f"--config={os.environ['PEERPREP_SERVICE_CONFIG']}"]
            if os.environ.get("PEERPREP_SERVICE_CONFIG")
            else []
        ),
        "environment": _service_env,
        "display": True,
        # Students reach the service's pages without an extra "authorize" screen.
        "oauth_no_confirm": True,
    }
)

# What the service may do at the Hub, and nothing more (docs/reference/hub-scopes.md):
# read users and their groups (roles), create and delete pair users, start and stop their
# servers, and share a pair server with exactly two students.
c.JupyterHub.load_roles.extend(
    [
        {
            "name": "peerprep",
            "services": ["peerprep"],
            "scopes": [
                "read:users",
                "read:users:groups",
                # Who is in a course group (the class view of jupyter_peerprep/lms.py's
                # course-<id> groups and of the instructors group).
                "read:groups",
                "admin:users",
                "admin:servers",
                "access:servers",
                "shares",
                "read:shares",
            ],
        },
        {
            # Every user may call the PeerPrep service (through a server's relay, with their
            # own OAuth token for that server).
            "name": "user",
            "scopes": ["self", "access:services!service=peerprep"],
        },
    ]
)

# The relay in the jupyter_peerprep server extension finds the service through
# PEERPREP_SERVICE_URL and calls it with the *visiting user's own* OAuth token, never with the
# server's token (docs/explanation/security.md). So a server's OAuth client may issue tokens
# that reach the service (a user's role must grant it too: role "user" above), and a server's
# own token may not call the service at all: kernels and terminals never see that token, and a
# pair user acts for no student.
c.Spawner.oauth_client_allowed_scopes = ["access:services!service=peerprep"]
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    "read:users:groups!user",
]
c.Spawner.environment.update({"PEERPREP_SERVICE_URL": f"{PEERPREP_SERVICE_URL}/services/peerprep/"})
