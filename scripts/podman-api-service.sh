# Sourced by container-engine.sh and gpu-host-engine.sh. podman_api_service SOCKET LOG starts Podman's
# Docker-compatible API service on a socket, waits until it answers (20 s at most), and has it stopped
# by its PID, and the socket removed, when the calling script exits; a signal becomes an exit, so
# that this happens then too. Returns non-zero, having said why, when the service does not answer.
podman_api_service() {
  local socket=$1 service_log=$2
  rm -f "$socket"
  podman system service --time=0 "unix://$socket" >"$service_log" 2>&1 &
  podman_api_pid=$!
  podman_api_socket=$socket
  trap 'kill "$podman_api_pid" 2>/dev/null || true; wait "$podman_api_pid" 2>/dev/null || true; rm -f "$podman_api_socket"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  for _ in $(seq 1 100); do
    podman --url "unix://$socket" version >/dev/null 2>&1 && return 0
    if ! kill -0 "$podman_api_pid" 2>/dev/null; then
      echo "podman system service exited; its log, $service_log:" >&2
      cat "$service_log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "podman system service did not answer on $socket within 20 s; see $service_log" >&2
  return 1
}
