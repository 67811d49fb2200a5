#!/usr/bin/env bash
# Build PeerPrep's container images without a registry (see ../shared/ENGINE.md).
#
#   docker/build-images.sh            build every image
#   docker/build-images.sh grader     build only the named image(s) (and what they need)
#
# One function per image. Each image carries a label with the hash of its inputs (Dockerfile,
# build context, base image id); an image whose label matches is not rebuilt, so a second run
# takes well under a second. The base image comes from Debian packages via debootstrap.
set -euo pipefail

# One build at a time on this machine's engine: the pytest-xdist workers of `make pytest` (and
# other checkouts) call this script at once, and two builds of one tag, or of dist/wheels/,
# would trip over each other. -o: the lock stays with flock, not with what the build starts.
if [ -z "${PEERPREP_BUILD_LOCKED:-}" ]; then
    export PEERPREP_BUILD_LOCKED=1
    exec flock -o "${PEERPREP_BUILD_LOCK:-/run/lock/peerprep-build-images.lock}" "$0" "$@"
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BASE_IMAGE=${PEERPREP_BASE_IMAGE:-localhost/peerprep-base:bookworm}
GRADER_IMAGE=${PEERPREP_GRADER_IMAGE:-localhost/peerprep-grader:latest}
MIRROR=${PEERPREP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
HASH_LABEL=org.peerprep.inputs-hash
PODMAN=(podman)

say() { echo "build-images: $*" >&2; }

image_exists() { "${PODMAN[@]}" image exists "$1"; }

image_label() {
    "${PODMAN[@]}" image inspect --format "{{ index .Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null \
        || true
}

image_id() { "${PODMAN[@]}" image inspect --format '{{.Id}}' "$1"; }

# Hash of a build context directory plus extra strings (e.g. the base image id).
inputs_hash() {
    local dir=$1
    shift
    {
        (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
        printf '%s\n' "$@"
    } | sha256sum | cut -c1-64
}

# podman build with the machine's CA bundle and pip configuration, so a build that installs
# Python packages can reach the package index through the machine's TLS proxy.
podman_build() {
    local extra=()
    [ -f /etc/ssl/certs/ca-certificates.crt ] &&
        extra+=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
    [ -f /etc/pip.conf ] && extra+=(-v /etc/pip.conf:/etc/pip.conf:ro)
    "${PODMAN[@]}" build --network host "${extra[@]}" --build-arg "BASE=$BASE_IMAGE" "$@"
}

build_base() {
    if image_exists "$BASE_IMAGE"; then
        return
    fi
    say "bootstrapping $BASE_IMAGE from Debian packages (about a minute)"
    local rootfs
    rootfs=$(mktemp -d /var/tmp/peerprep-rootfs.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf '$rootfs'" RETURN
    debootstrap --variant=minbase \
        --include=python3,python3-venv,python3-pip,ca-certificates \
        bookworm "$rootfs" "$MIRROR" >/dev/null
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | "${PODMAN[@]}" import --quiet \
        --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$BASE_IMAGE" >/dev/null
}

# The Deno executable for JavaScript/TypeScript runs: the one the deno package from PyPI
# installed into the project's virtualenv, else deno on PATH; empty when there is none.
find_deno() {
    "$ROOT/.venv/bin/python" -c 'from deno import find_deno_bin; print(find_deno_bin())' \
        2>/dev/null || command -v deno || true
}

build_grader() {
    build_base
    local context=$HERE/grader hash deno stage
    deno=$(find_deno)
    hash=$(inputs_hash "$context" "$(image_id "$BASE_IMAGE")" "recipe 3: no network, no mounts" \
        "deno: ${deno:+$("$deno" --version | head -1)}")
    if image_exists "$GRADER_IMAGE" && [ "$(image_label "$GRADER_IMAGE")" = "$hash" ]; then
        return
    fi
    say "building $GRADER_IMAGE"
    # The context plus runtimes/ (Deno, copied from the host: nothing is downloaded).
    stage=$(mktemp -d /var/tmp/peerprep-grader.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf '$stage'" RETURN
    cp -r "$context/." "$stage/"
    mkdir -p "$stage/runtimes"
    if [ -n "$deno" ]; then
        cp "$deno" "$stage/runtimes/deno"
    else
        say "no deno found (pip install deno): the grader image cannot run JavaScript/TypeScript"
    fi
    # Nothing to download, so no network and none of the host's CA/pip files: the image must
    # not even carry their empty mount points.
    "${PODMAN[@]}" build --network none --build-arg "BASE=$BASE_IMAGE" \
        --label "$HASH_LABEL=$hash" -t "$GRADER_IMAGE" -f "$stage/Dockerfile" "$stage" \
        >/dev/null
}

# The PeerPrep wheel, built once on the host (the lab extension is already built by `make`),
# plus a constraints file pinning the versions of the project's .venv, so the images run
# what the tests ran. Both go to dist/wheels/, which the hub and single-user builds use.
WHEEL_DIR=$ROOT/dist/wheels
WHEEL_BUILT=
PINNED='^(jupyter|pycrdt|ypy|tornado|traitlets|sqlalchemy|alembic|docker|ipykernel|psycopg|prometheus)'
build_wheel() {
    [ -n "$WHEEL_BUILT" ] && return
    local pip=${PEERPREP_PIP:-$ROOT/.venv/bin/pip} tmp
    mkdir -p "$ROOT/dist"
    tmp=$(mktemp -d "$ROOT/dist/.wheels.XXXXXX")
    "$pip" wheel -q --no-deps --no-build-isolation -w "$tmp" "$ROOT" >&2
    # Only the Jupyter stack and what PeerPrep talks to are pinned; the rest resolves freely.
    "$pip" freeze --exclude-editable 2>/dev/null | grep -v -e ' @ ' -e '^-e ' \
        -e '^jupyter[-_]peerprep=' | grep -iE "$PINNED" >"$tmp/constraints.txt" || true
    # Replace dist/wheels only when something changed (a concurrent build may be reading it).
    if diff -rq "$tmp" "$WHEEL_DIR" >/dev/null 2>&1; then
        rm -rf "$tmp"
    else
        rm -rf "$WHEEL_DIR.old"
        [ -d "$WHEEL_DIR" ] && mv "$WHEEL_DIR" "$WHEEL_DIR.old"
        mv "$tmp" "$WHEEL_DIR"
        rm -rf "$WHEEL_DIR.old"
    fi
    WHEEL_BUILT=1
}

# Hash of what a hub or single-user image is made of: its Dockerfile, the wheel, the pinned
# versions, the base image, plus any extra paths (the hub configuration for the hub image).
app_inputs_hash() {
    local dockerfile=$1
    shift
    {
        sha256sum "$dockerfile" "$HERE/context.dockerignore" "$WHEEL_DIR"/*.whl \
            "$WHEEL_DIR/constraints.txt" | cut -c1-64
        image_id "$BASE_IMAGE"
        for extra in "$@"; do
            (cd "$ROOT" && find "$extra" -type f ! -name '*.pyc' -print0 | sort -z \
                | xargs -0 sha256sum)
        done
    } | sha256sum | cut -c1-64
}

build_app_image() {
    local name=$1 image=$2 hash
    shift 2
    build_base
    build_wheel
    hash=$(app_inputs_hash "$HERE/$name/Dockerfile" "$@")
    if image_exists "$image" && [ "$(image_label "$image")" = "$hash" ]; then
        return
    fi
    say "building $image"
    podman_build --format docker --label "$HASH_LABEL=$hash" --build-arg "BUILD_BASE=$BASE_IMAGE" \
        --ignorefile "$HERE/context.dockerignore" -t "$image" -f "$HERE/$name/Dockerfile" \
        "$ROOT" >&2
}

HUB_IMAGE=${PEERPREP_HUB_IMAGE:-localhost/peerprep-hub:latest}
SINGLEUSER_IMAGE=${PEERPREP_SINGLEUSER_IMAGE:-localhost/peerprep-singleuser:latest}
build_hub() {
    build_app_image hub "$HUB_IMAGE" hub_config question_bank docker/wheel_requirements.py
}
build_singleuser() { build_app_image singleuser "$SINGLEUSER_IMAGE" docker/wheel_requirements.py; }

ALL_IMAGES=(grader hub singleuser)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_IMAGES[@]}")
for target in "${targets[@]}"; do
    case "$target" in
    base) build_base ;;
    grader) build_grader ;;
    hub) build_hub ;;
    singleuser) build_singleuser ;;
    *)
        say "unknown image '$target'; known: base ${ALL_IMAGES[*]}"
        exit 2
        ;;
    esac
done
say "images ready: ${targets[*]}"
