#!/usr/bin/env bash
# Runs a command (the integration tests) with a Docker-compatible container API reachable.
#
#   scripts/container-engine.sh COMMAND [ARG...]
#
# When DOCKER_HOST, or /var/run/docker.sock, already answers, COMMAND runs as it is: Docker or a
# Podman you started yourself is used unchanged. Otherwise (CI hosts have no engine) this script
# brings up rootful Podman for the duration of COMMAND:
#   - installs podman, runc and debootstrap with apt-get (needs root) when they are missing;
#   - writes a containers.conf that picks runc and sets explicit ulimits, and exports CONTAINERS_CONF:
#     in sandboxed hosts crun fails on hybrid cgroups and the default ulimits cannot be set;
#   - makes the Debian base image localhost/local/debian:bookworm with debootstrap when it is not
#     there already (no registry is reachable), and exports TRTLLM4J_BASE_IMAGE naming it;
#   - starts `podman system service` on a socket of its own, exports DOCKER_HOST and
#     TESTCONTAINERS_RYUK_DISABLED=true (the Ryuk image cannot be pulled), runs COMMAND, and stops
#     the service by its PID when COMMAND ends, however it ends.
# What a run leaves for the next one: the packages, the base image and the Maven repository.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

readonly BASE_IMAGE=localhost/local/debian:bookworm
readonly STATE_DIR=/run/trtllm4j-podman

log() { echo "container-engine: $*" >&2; }

# The Debian mirror this host's apt uses (deb822 or one-line sources), so that the base image's apt
# uses it too; empty when none is found, and debootstrap takes its own default.
host_mirror() {
  {
    sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null
    sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\([^[:space:]]*\).*/\2/p' /etc/apt/sources.list 2>/dev/null
  } | grep -v -- '-security' | head -n 1 || true
}

# Whether a Docker API answers at a DOCKER_HOST-style address (unix:// or tcp://).
answers() {
  local host=$1
  case "$host" in
    unix://*) curl -fsS --max-time 5 --unix-socket "${host#unix://}" http://engine/_ping >/dev/null 2>&1 ;;
    tcp://*) curl -fsS --max-time 5 "http://${host#tcp://}/_ping" >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

if [[ -n "${DOCKER_HOST:-}" ]] && answers "$DOCKER_HOST"; then
  log "using the engine at DOCKER_HOST=$DOCKER_HOST"
  exec "$@"
fi
if [[ -z "${DOCKER_HOST:-}" ]] && answers unix:///var/run/docker.sock; then
  log "using the engine at /var/run/docker.sock"
  exec "$@"
fi
if [[ -n "${DOCKER_HOST:-}" ]]; then
  log "DOCKER_HOST=$DOCKER_HOST does not answer; starting Podman instead"
fi

if [[ $(id -u) -ne 0 ]]; then
  log "no container engine answers, and starting Podman here needs root." \
      "Start Docker or Podman's API service yourself and set DOCKER_HOST (see README)."
  exit 1
fi

missing=()
for tool in podman runc debootstrap curl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$STATE_DIR"
export CONTAINERS_CONF="$STATE_DIR/containers.conf"
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF

if ! podman image exists "$BASE_IMAGE"; then
  log "making $BASE_IMAGE with debootstrap"
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" $(host_mirror) >/dev/null
  tar -C "$rootfs" -c . | podman import --quiet - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

socket="$STATE_DIR/podman-$$.sock"
service_log="$STATE_DIR/podman-service.log"
source "$(dirname "$0")/podman-api-service.sh"
podman_api_service "$socket" "$service_log" || exit 1
log "Podman's API service (pid $podman_api_pid) answers on $socket; its log: $service_log"

export DOCKER_HOST="unix://$socket"
export TESTCONTAINERS_RYUK_DISABLED=true
export TRTLLM4J_BASE_IMAGE="$BASE_IMAGE"
"$@"
