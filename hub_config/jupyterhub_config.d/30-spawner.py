# Local process spawning for the embedded default: one home directory per user under the state
# directory, servers bound to loopback, every server in a bubblewrap sandbox and a cgroup of its
# own. Containers come with the docker and kubernetes tiers.
#
# Environment variables (all optional; the same names as the docker tier's 50-docker.py):
#   PEERPREP_MEM_LIMIT          memory of one server and its kernels (default 2G)
#   PEERPREP_PAIR_MEM_LIMIT     memory of a pair server (default: PEERPREP_MEM_LIMIT)
#   PEERPREP_PIDS_LIMIT         processes and threads of one server (default 512)
#   PEERPREP_PAIR_PIDS_LIMIT    processes and threads of a pair server (default: the above)
#   PEERPREP_CPU_LIMIT          CPUs one server may use at most (default: no cap, only a
#                               lower CPU weight than the hub's)
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
# Limits of each server's cgroup (jupyter_peerprep/spawner.py: PeerPrepSpawner.*_limit).
if os.environ.get("PEERPREP_MEM_LIMIT"):
    c.PeerPrepSpawner.mem_limit = os.environ["PEERPREP_MEM_LIMIT"]
if os.environ.get("PEERPREP_PAIR_MEM_LIMIT"):
    c.PeerPrepSpawner.pair_mem_limit = os.environ["PEERPREP_PAIR_MEM_LIMIT"]
if os.environ.get("PEERPREP_PIDS_LIMIT"):
    c.PeerPrepSpawner.pids_limit = int(os.environ["PEERPREP_PIDS_LIMIT"])
if os.environ.get("PEERPREP_PAIR_PIDS_LIMIT"):
    c.PeerPrepSpawner.pair_pids_limit = int(os.environ["PEERPREP_PAIR_PIDS_LIMIT"])
if os.environ.get("PEERPREP_CPU_LIMIT"):
    c.PeerPrepSpawner.cpu_limit = float(os.environ["PEERPREP_CPU_LIMIT"])
# The test and CI machines run everything as root; jupyter-server refuses that without this.
if os.geteuid() == 0:
    c.Spawner.args.append("--allow-root")
# Seconds a server may take to start and to answer. PEERPREP_SPAWN_TIMEOUT raises it where
# starts are slow for a known reason (the test suite runs several workers on two cores).
c.Spawner.start_timeout = c.Spawner.http_timeout = int(
    os.environ.get("PEERPREP_SPAWN_TIMEOUT", "60")
)
# Stop servers promptly so a stopping hub (or a test) does not wait on them.
c.LocalProcessSpawner.interrupt_timeout = 3
c.LocalProcessSpawner.term_timeout = 3
c.LocalProcessSpawner.kill_timeout = 3
