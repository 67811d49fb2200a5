"""Start the embedded-default PeerPrep hub and say where it is (``make run``).

``python -m jupyter_peerprep.launch`` runs ``jupyterhub -f hub_config/jupyterhub_config.py``
with the state in ``.peerprep/``, waits until the hub answers, prints
``PeerPrep is running at http://127.0.0.1:8000`` and what to do next, and stops the hub (and
every server it started) on Ctrl-C.

``LocalHub`` is the same thing as a class, used by the integration and browser tests with free
ports and a temporary state directory.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_hub_config() -> Path:
    """hub_config/ next to the package (editable install) or in the installed data."""
    for candidate in (
        REPO_ROOT / "hub_config" / "jupyterhub_config.py",
        Path(sys.prefix) / "share" / "jupyter_peerprep" / "hub_config" / "jupyterhub_config.py",
    ):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("Cannot find hub_config/jupyterhub_config.py")


def _terminate_with_parent() -> None:
    """In the child: get SIGTERM when the parent dies (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class HubStartError(RuntimeError):
    """The hub did not come up; the message carries the tail of its log."""


class LocalHub:
    """A JupyterHub process running PeerPrep's hub configuration."""

    def __init__(
        self,
        state_dir: Path,
        *,
        port: int = 8000,
        hub_port: int = 8081,
        proxy_api_port: int = 8001,
        service_port: int = 10101,
        ip: str = "127.0.0.1",
        extra_env: dict[str, str] | None = None,
        config_file: Path | None = None,
        log_path: Path | None = None,
        die_with_parent: bool = False,
        subdomains: bool = False,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.port = port
        self.ip = ip
        self.service_port = service_port
        # Each server on its own subdomain of localhost (browsers resolve *.localhost to the
        # loopback); the hub itself at http://localhost:<port>.
        self.subdomains = subdomains
        self.config_file = config_file or default_hub_config()
        self.log_path = log_path or self.state_dir / "jupyterhub.log"
        self.env = {
            **os.environ,
            "PEERPREP_STATE_DIR": str(self.state_dir),
            "PEERPREP_IP": ip,
            "PEERPREP_PORT": str(port),
            "PEERPREP_HUB_PORT": str(hub_port),
            "PEERPREP_PROXY_API_PORT": str(proxy_api_port),
            "PEERPREP_SERVICE_PORT": str(service_port),
            # The hub's own venv first, so spawned servers and the service use it.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **({"PEERPREP_SUBDOMAIN_HOST": f"http://localhost:{port}"} if subdomains else {}),
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        # Tests ask for this so a killed test run leaves no hub (and so no server) behind.
        self.die_with_parent = die_with_parent

    @property
    def url(self) -> str:
        host = "localhost" if self.subdomains else self.ip
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(self.config_file)],
            cwd=self.state_dir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_terminate_with_parent if self.die_with_parent else None,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HubStartError(
                    f"JupyterHub exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            if self._healthy():
                return
            time.sleep(0.25)
        self.stop()
        raise HubStartError(f"JupyterHub did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/hub/health", timeout=2) as r:  # noqa: S310
                if r.status != 200:
                    return False
            # On subdomains the proxy routes the service by its own host name; ask it directly.
            service = f"http://127.0.0.1:{self.service_port}" if self.subdomains else self.url
            with urllib.request.urlopen(  # noqa: S310
                f"{service}/services/peerprep/api/health", timeout=2
            ) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the hub; it stops the servers it spawned (cleanup_servers). Kill if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PEERPREP_PORT", 8000)))
    parser.add_argument(
        "--state-dir",
        default=os.environ.get("PEERPREP_STATE_DIR", str(REPO_ROOT / ".peerprep")),
        help="where the hub and service keep their state (default: .peerprep/)",
    )
    args = parser.parse_args(argv)
    hub = LocalHub(Path(args.state_dir), port=args.port)
    print(f"Starting PeerPrep (state in {hub.state_dir}, log in {hub.log_path}) ...", flush=True)
    try:
        hub.start()
    except HubStartError as e:
        print(f"PeerPrep did not start: {e}", file=sys.stderr)
        return 1
    print(f"PeerPrep is running at {hub.url}", flush=True)
    print(
        f"  Open {hub.url}/hub/signup to create an account, then log in.\n"
        "  Sign up as 'admin' to be the hub admin and an instructor.\n"
        "  Press Ctrl-C to stop.",
        flush=True,
    )
    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    assert hub.process is not None
    while not stopping and hub.process.poll() is None:
        time.sleep(0.5)
    if hub.process.poll() is not None and not stopping:
        print(f"JupyterHub exited:\n{hub.log_tail()}", file=sys.stderr)
        return 1
    print("Stopping PeerPrep ...", flush=True)
    hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
