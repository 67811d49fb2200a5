# PeerPrep service settings for docker/compose.yaml (mounted at /etc/peerprep/, named by
# PEERPREP_SERVICE_CONFIG). `jupyter peerprep service --help-all` lists every setting.
c = get_config()  # noqa: F821

# One JSON object per log line (`docker compose logs hub` stays greppable with jq).
c.PeerPrepService.log_style = "json"

# Every Run/Submit in a fresh grader container through the engine socket mounted into the hub
# container: no network, read-only root, limits (docker/grader/Dockerfile).
c.Grader.backend = "docker"
# The engine socket as docker/compose.yaml mounts it into the hub container.
c.DockerSandbox.docker_host = "unix:///var/run/docker.sock"
