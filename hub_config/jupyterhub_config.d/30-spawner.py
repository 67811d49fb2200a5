# Local process spawning for the embedded default: one home directory per user under the state
# directory, servers bound to loopback, every server in a bubblewrap sandbox. Containers come
# with the docker and kubernetes tiers.
import os

c = get_config()

_state = os.environ["PEERPREP_STATE_DIR"]
_homes = os.path.join(_state, "homes")
os.makedirs(_homes, exist_ok=True)

# Each server runs in bubblewrap and sees only its home, the Python environment (read-only)
# and a few system files: see jupyter_peerprep/spawner.py for what is and is not isolated.
c.JupyterHub.spawner_class = "jupyter_peerprep.spawner.PeerPrepSpawner"
c.PeerPrepSpawner.home_dir_template = os.path.join(_homes, "{username}")
c.Spawner.ip = "127.0.0.1"
# The test and CI machines run everything as root; jupyter-server refuses that without this.
if os.geteuid() == 0:
    c.Spawner.args.append("--allow-root")
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
# Stop servers promptly so a stopping hub (or a test) does not wait on them.
c.LocalProcessSpawner.interrupt_timeout = 3
c.LocalProcessSpawner.term_timeout = 3
c.LocalProcessSpawner.kill_timeout = 3
