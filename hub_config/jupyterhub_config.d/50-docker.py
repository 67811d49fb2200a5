# One-host tier: every student and pair server is a container started by DockerSpawner.
#
# Active only when PEERPREP_TIER=docker (docker/compose.yaml sets it); without it this file
# changes nothing, so the embedded default (`make run`) stays as it is. It can also be loaded
# on its own by an existing hub: `load_subconfig(".../50-docker.py")` with PEERPREP_TIER=docker.
#
# Layered on 00-base.py, 20-peerprep.py and 30-spawner.py; what it overrides, and why:
#   - the spawner: DockerSpawner instead of local processes;
#   - the hub API listens where containers can reach it (not 127.0.0.1);
#   - spawned servers reach the PeerPrep service through the proxy, by the hub's name;
#   - no --allow-root: the single-user image runs as the unprivileged user jovyan (uid 1000).
#
# Environment variables (all optional; docs/how-to/deploy-docker.md):
#   PEERPREP_SINGLEUSER_IMAGE   image of student and pair servers
#                               (default localhost/peerprep-singleuser:latest)
#   PEERPREP_DOCKER_NETWORK     Docker network of the servers; create it with --internal so
#                               servers have no route out (default peerprep-rooms)
#   PEERPREP_HUB_CONNECT_HOST   name or IP at which containers reach the hub and the proxy
#                               (default "hub", the compose service name)
#   PEERPREP_HUB_BIND_IP        IP the hub API listens on (default 0.0.0.0)
#   PEERPREP_SERVICE_URL_FOR_SERVERS  URL of the PeerPrep service as servers see it
#                               (default http://$PEERPREP_HUB_CONNECT_HOST:$PEERPREP_SERVICE_PORT;
#                               20-peerprep.py has the service listen on every interface here)
#   PEERPREP_MEM_LIMIT          memory limit of a student server (default 1G)
#   PEERPREP_PAIR_MEM_LIMIT     memory limit of a pair server (default: PEERPREP_MEM_LIMIT)
#   PEERPREP_CPU_LIMIT          CPUs of one server (default 1.0)
#   PEERPREP_PIDS_LIMIT         processes of one server (default 512)
#   PEERPREP_HOME_VOLUMES       "1" (default): each user's home is a named volume
#                               peerprep-home-<user> that outlives the container
import os

c = get_config()

if os.environ.get("PEERPREP_TIER", "") == "docker":
    _connect_host = os.environ.get("PEERPREP_HUB_CONNECT_HOST", "hub")
    _service_port = int(os.environ.get("PEERPREP_SERVICE_PORT", "10101"))
    _service_for_servers = os.environ.get(
        "PEERPREP_SERVICE_URL_FOR_SERVERS", f"http://{_connect_host}:{_service_port}"
    ).rstrip("/")
    _mem_limit = os.environ.get("PEERPREP_MEM_LIMIT", "1G")
    _pair_mem_limit = os.environ.get("PEERPREP_PAIR_MEM_LIMIT", _mem_limit)

    # DockerSpawner plus what pair rooms need (collaboration on, short auth cache, no
    # authorize page): jupyter_peerprep/docker_spawner.py.
    c.JupyterHub.spawner_class = "jupyter_peerprep.docker_spawner.PeerPrepDockerSpawner"

    # The hub API must be reachable from the containers' network, under a name they resolve.
    c.JupyterHub.hub_ip = os.environ.get("PEERPREP_HUB_BIND_IP", "0.0.0.0")  # noqa: S104
    c.JupyterHub.hub_connect_ip = _connect_host

    c.DockerSpawner.image = os.environ.get(
        "PEERPREP_SINGLEUSER_IMAGE", "localhost/peerprep-singleuser:latest"
    )
    # Containers on this network talk to each other and to the hub; created --internal it has
    # no default route, so a room cannot reach the internet (or the host's other networks).
    c.DockerSpawner.network_name = os.environ.get("PEERPREP_DOCKER_NETWORK", "peerprep-rooms")
    c.DockerSpawner.use_internal_ip = True
    # The server inside the container listens on all its interfaces (only the network sees
    # them); 30-spawner.py's 127.0.0.1 is right for local processes only.
    c.DockerSpawner.ip = "0.0.0.0"  # noqa: S104
    c.DockerSpawner.port = 8888
    # The image's user is jovyan, not root: drop the --allow-root of 30-spawner.py.
    c.DockerSpawner.args = []
    # A stopped server's container is deleted: a pair server is never reused for another pair.
    c.DockerSpawner.remove = True
    c.DockerSpawner.name_template = "peerprep-{username}"
    c.DockerSpawner.mem_limit = _mem_limit
    c.DockerSpawner.cpu_limit = float(os.environ.get("PEERPREP_CPU_LIMIT", "1.0"))
    c.DockerSpawner.extra_host_config = {
        "pids_limit": int(os.environ.get("PEERPREP_PIDS_LIMIT", "512")),
        "security_opt": ["no-new-privileges"],
        "cap_drop": ["ALL"],
    }
    if os.environ.get("PEERPREP_HOME_VOLUMES", "1") == "1":
        c.DockerSpawner.volumes = {"peerprep-home-{username}": "/home/jovyan"}
    # Pulling is impossible without a registry and pointless for a locally built image.
    c.DockerSpawner.pull_policy = "ifnotpresent"
    c.DockerSpawner.start_timeout = 120
    c.DockerSpawner.http_timeout = 120

    # The relay in each server reaches the service directly, not through the proxy: with
    # servers on subdomains (production) the proxy routes the service by its own host name,
    # which a container's request to the hub's name would not carry.
    c.Spawner.environment.update(
        {"PEERPREP_SERVICE_URL": f"{_service_for_servers}/services/peerprep/"}
    )

    c.PeerPrepDockerSpawner.pair_mem_limit = _pair_mem_limit
