#!/usr/bin/env bash
# Bring up the container engine PeerPrep tests and the one-host deployment talk to: podman
# behind the Docker API on unix:///run/peerprep-podman.sock (see ../shared/ENGINE.md for why
# podman, runc, cgroupfs and explicit ulimits).
#
# Idempotent: installs podman/runc only when missing, rewrites containers.conf only when it
# differs, starts `podman system service` only when the socket does not answer. Prints the
# DOCKER_HOST line to use on stdout (everything else goes to stderr).
set -euo pipefail

# One caller at a time (the pytest-xdist workers of `make pytest` all call this at start), so
# only one of them starts the service. -o: the service started below must not hold the lock.
if [ -z "${PEERPREP_ENGINE_LOCKED:-}" ]; then
    export PEERPREP_ENGINE_LOCKED=1
    exec flock -o "${PEERPREP_ENGINE_LOCK:-/run/lock/peerprep-engine-up.lock}" "$0" "$@"
fi

SOCK=${PEERPREP_PODMAN_SOCK:-/run/peerprep-podman.sock}
LOG=${PEERPREP_PODMAN_LOG:-/run/peerprep-podman.log}
PIDFILE=${PEERPREP_PODMAN_PIDFILE:-/run/peerprep-podman.pid}
CONF=/etc/containers/containers.conf

say() { echo "engine-up: $*" >&2; }

ping_engine() {
    [ -S "$SOCK" ] && curl -sf --max-time 5 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1
}

install_packages() {
    local missing=""
    # netavark (with aardvark-dns, its DNS) rather than the CNI plugins apt picks by default:
    # with CNI an internal network has no gateway address on the host, so a hub on the host
    # cannot be reached from the rooms' network (tests/deployment, the one-host tier).
    for p in podman runc netavark aardvark-dns; do
        dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        say "installing$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
}

write_config() {
    # cgroup v1 and no CAP_SYS_RESOURCE here: crun, or implicit ulimits, make every container
    # fail with "setrlimit ... Operation not permitted".
    local want
    want='[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
[network]
network_backend = "netavark"'
    if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$want" ]; then
        say "writing $CONF"
        mkdir -p "$(dirname "$CONF")"
        printf '%s\n' "$want" >"$CONF"
        # A service started with the old settings keeps them: start it again.
        stop_service
    fi
}

stop_service() {
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        say "stopping the podman service (pid $(cat "$PIDFILE")) to apply $CONF"
        kill "$(cat "$PIDFILE")"
        for _ in $(seq 1 50); do
            kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
            sleep 0.2
        done
    fi
    rm -f "$SOCK"
}

start_service() {
    if ping_engine; then
        return
    fi
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        say "podman service (pid $(cat "$PIDFILE")) is starting; waiting for it"
    else
        rm -f "$SOCK"
        say "starting podman system service on unix://$SOCK (log: $LOG)"
        # From /: conmon writes files such as "oom" (a container hit its memory limit) into
        # the service's working directory, which must not be a checkout.
        setsid nohup sh -c 'cd / && exec podman system service --time=0 "unix://$1"' sh "$SOCK" \
            >>"$LOG" 2>&1 </dev/null &
        echo $! >"$PIDFILE"
    fi
    for _ in $(seq 1 100); do
        if ping_engine; then
            return
        fi
        sleep 0.2
    done
    say "the podman service did not answer on $SOCK within 20 s; see $LOG"
    exit 1
}

install_packages
write_config
start_service
echo "DOCKER_HOST=unix://$SOCK"
