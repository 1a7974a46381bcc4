#!/usr/bin/env bash
# Runs COMMAND on a GPU host that has no container engine, with carried Podman answering Docker's API
# and a CDI specification of the host's NVIDIA GPUs, so that Testcontainers can start containers
# that get the GPU (TrtLlmContainer.withGpus()).
#
#   scripts/gpu-host-engine.sh DEBS COMMAND [ARG...]
#
# DEBS: the .deb files that scripts/podman-for-gpu-host.sh downloads (make podman-debs). As root,
# this script:
#   1. unpacks them with dpkg -x under $STATE (default /tmp/trtllm4j-podman) and puts wrappers for
#      podman, conmon and runc in $STATE/bin that find the carried libraries; nothing is installed
#      into the host's folders except /etc/containers/policy.json, when the host has none;
#   2. writes a containers.conf (runc, cgroupfs, the host's network namespace: no bridge, no
#      iptables needed) and a storage.conf (overlay where the kernel offers it, else vfs, under $STATE);
#   3. writes /var/run/cdi/trtllm4j-nvidia.json from what the host has: nvidia.com/gpu=N for each
#      /dev/nvidiaN and =all, the control and UVM device nodes, the driver's compute and
#      utility libraries (found next to libcuda.so.1) bound read-only into the container's
#      /usr/lib/x86_64-linux-gnu, and nvidia-smi as /usr/bin/nvidia-smi; no hooks;
#   4. starts `podman system service` on $STATE/podman.sock, runs COMMAND with DOCKER_HOST,
#      TESTCONTAINERS_RYUK_DISABLED=true and $STATE/bin on PATH, and stops the service when
#      COMMAND ends. COMMAND can load images: `podman load -i trtllm4j-gpu-VERSION.tar`.
# The storage stays in $STATE, so a second run finds the images the first loaded.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 DEBS COMMAND [ARG...]" >&2
  exit 2
fi
debs=$(cd "$1" && pwd)
shift
state=${STATE:-/tmp/trtllm4j-podman}
root=$state/root

log() { echo "gpu-host-engine: $*" >&2; }

[[ $(id -u) -eq 0 ]] || { log "needs root (rootful Podman)"; exit 1; }
compgen -G "$debs/podman_*.deb" >/dev/null || { log "no podman_*.deb in $debs: run scripts/podman-for-gpu-host.sh"; exit 1; }

# 1. Podman, conmon and runc with their libraries, each behind a wrapper.
if [[ ! -x $root/usr/bin/podman ]]; then
  mkdir -p "$root"
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$root"; done
fi
libraries=$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu
mkdir -p "$state/bin"
for program in usr/bin/podman usr/bin/conmon usr/sbin/runc; do
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$libraries" "$root/$program" >"$state/bin/${program##*/}"
  chmod +x "$state/bin/${program##*/}"
done
if [[ ! -e /etc/containers/policy.json ]]; then
  mkdir -p /etc/containers
  cp "$root/etc/containers/policy.json" /etc/containers/policy.json
  log "wrote /etc/containers/policy.json (Podman reads it from there only)"
fi

# 2. Configuration.
storage_driver=vfs
probe=$(mktemp -d)
mkdir -p "$probe"/{lower,upper,work,merged}
if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
  umount "$probe/merged"
  storage_driver=overlay
fi
rm -rf "$probe"
export CONTAINERS_CONF=$state/containers.conf CONTAINERS_STORAGE_CONF=$state/storage.conf
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "host"
seccomp_profile = "$root/usr/share/containers/seccomp.json"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
conmon_path = ["$state/bin/conmon"]
[engine.runtimes]
runc = ["$state/bin/runc"]
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "$storage_driver"
graphroot = "$state/storage"
runroot = "$state/run"
EOF

# 3. The CDI specification of this host's GPUs.
driver_libcuda=$(ldconfig -p 2>/dev/null | awk '$1 == "libcuda.so.1" { print $NF; exit }')
for candidate in "$driver_libcuda" /usr/local/nvidia/lib64/libcuda.so.1 /usr/lib/x86_64-linux-gnu/libcuda.so.1; do
  if [[ -n $candidate && -e $candidate ]]; then driver_libcuda=$candidate; break; fi
done
gpus=$(ls /dev/nvidia[0-9]* 2>/dev/null || true)
if [[ -z $gpus || ! -e $driver_libcuda ]]; then
  log "no NVIDIA GPU or driver here (devices: ${gpus:-none}; libcuda.so.1: ${driver_libcuda:-not found}): no CDI specification written"
else
  driver_dir=$(dirname "$driver_libcuda")
  smi=$(command -v nvidia-smi || ls /usr/local/nvidia/bin/nvidia-smi 2>/dev/null || true)
  nodes() { local first=1; for node in "$@"; do
    [[ $first -eq 1 ]] || printf ', '; first=0; printf '{"path": "%s"}' "$node"; done; }
  {
    printf '{\n  "cdiVersion": "0.5.0",\n  "kind": "nvidia.com/gpu",\n  "devices": [\n'
    for gpu in $gpus; do
      printf '    {"name": "%s", "containerEdits": {"deviceNodes": [%s]}},\n' "${gpu#/dev/nvidia}" "$(nodes "$gpu")"
    done
    # shellcheck disable=SC2086
    printf '    {"name": "all", "containerEdits": {"deviceNodes": [%s]}}\n  ],\n' "$(nodes $gpus)"
    common=()
    for node in /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia-uvm-tools; do [[ -e $node ]] && common+=("$node"); done
    printf '  "containerEdits": {\n    "deviceNodes": [%s],\n    "mounts": [\n' "$(nodes "${common[@]}")"
    mounts=()
    for library in "$driver_dir"/lib{cuda,cudadebugger,nvidia-ml,nvidia-ptxjitcompiler,nvidia-nvvm,nvidia-gpucomp}.so*; do
      [[ -e $library ]] || continue
      mounts+=("$(printf '      {"hostPath": "%s", "containerPath": "/usr/lib/x86_64-linux-gnu/%s", "options": ["ro", "nosuid", "nodev", "bind"]}' \
        "$library" "${library##*/}")")
    done
    [[ -n $smi ]] && mounts+=("$(printf '      {"hostPath": "%s", "containerPath": "/usr/bin/nvidia-smi", "options": ["ro", "nosuid", "nodev", "bind"]}' "$smi")")
    (IFS=$'\n'; echo "${mounts[*]}" | sed '$!s/$/,/')
    printf '    ]\n  }\n}\n'
  } >"$state/nvidia.json"
  mkdir -p /var/run/cdi
  cp "$state/nvidia.json" /var/run/cdi/trtllm4j-nvidia.json
  log "wrote /var/run/cdi/trtllm4j-nvidia.json: $(echo $gpus), ${#mounts[@]} driver files from $driver_dir"
fi

# 4. The API service for the duration of COMMAND.
export PATH=$state/bin:$PATH
socket=$state/podman.sock
source "$(dirname "$0")/podman-api-service.sh"
podman_api_service "$socket" "$state/podman-service.log" || exit 1
log "Podman $(podman --version | awk '{print $3}') ($storage_driver storage) answers on $socket"
export DOCKER_HOST=unix://$socket TESTCONTAINERS_RYUK_DISABLED=true
"$@"
