"""The container of a user's server in the container tier (DockerSpawner), for tests."""

from __future__ import annotations

from typing import Any


def container_gone(docker_client: Any, username: str) -> bool:
    """True once the server's container no longer exists (podman may answer 500 "no such
    container" while it is being removed, then 404)."""
    import docker.errors

    try:
        container_of(docker_client, username)
    except docker.errors.NotFound:
        return True
    except docker.errors.APIError as e:
        if "no such container" in str(e):
            return True
        raise
    return False


def container_of(docker_client: Any, username: str) -> Any:
    """The container of a user's server, named as 50-docker.py's name_template says (with
    DockerSpawner's escaping: "pair-ab" becomes "pair-2dab")."""
    from dockerspawner import DockerSpawner

    return docker_client.containers.get(f"peerprep-{DockerSpawner._escape(username)}")


def container_pids(container: Any) -> int:
    """Processes and threads in a container now, as the engine's pids cgroup counts them."""
    stats = container.stats(stream=False)
    return int((stats.get("pids_stats") or {}).get("current") or 0)
