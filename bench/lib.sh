# shellcheck shell=bash
# Shared by the bench drivers (source it from the repository root): machine facts, a server of the
# benchmark's own on BENCH_PORT with its own store, the gRPC client and the PyTorch peer.
#
# Env: BENCH_PORT (gRPC, default 8089), BENCH_HTTP_PORT (health, default BENCH_PORT + 2), DISTILLERY_THREADS
# (training threads on both sides, default nproc).

BENCH_PORT=${BENCH_PORT:-8089}
BENCH_HTTP_PORT=${BENCH_HTTP_PORT:-$((BENCH_PORT + 2))}
BENCH_THREADS=${DISTILLERY_THREADS:-$(nproc)}
export DISTILLERY_THREADS=$BENCH_THREADS

# Prints the calling script's usage: its header comment from "# Usage" on.
bench_usage() {
  sed -n '/^# Usage/,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
}

# Writes the machine's facts to FILE (key: value lines, read by summarize.py) and shows them.
bench_machine_info() {
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "cores: $(nproc)"
    echo "threads: $BENCH_THREADS"
    echo "memory: $(free -g | awk '/Mem:/ {print $2}') GiB"
    echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "java: $(java -version 2>&1 | head -1)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  } | tee "$1"
}

# The client needs Debian's python3-grpcio, python3-grpc-tools and python3-yaml.
bench_need_client() {
  if ! /usr/bin/python3 -c 'import grpc, grpc_tools, yaml' 2>/dev/null; then
    echo "The benchmark's client needs Debian packages. Run:" >&2
    echo "  apt-get update && apt-get install -y python3-grpcio python3-grpc-tools python3-yaml" >&2
    exit 1
  fi
}

# Starts `./distillery serve` (which builds first when needed) on BENCH_PORT with an empty store and job
# folder under WORK, and stops it when the calling script exits. CONFIG, if given, is a properties file
# of extra server configuration (e.g. a dataset), read through Quarkus' QUARKUS_CONFIG_LOCATIONS.
bench_start_server() {
  rm -rf "$1/store" "$1/jobs"
  bench_launch_server "$@"
}

# Stops the server and starts a new one on the same store and job folder: a process that has served
# and never trained.
bench_restart_server() {
  kill "$BENCH_SERVER" 2>/dev/null; wait "$BENCH_SERVER" 2>/dev/null || true
  bench_launch_server "$@"
}

bench_launch_server() {
  local work=$1 config=${2:-}
  local log=$work/server.log
  if curl -fs "http://localhost:$BENCH_HTTP_PORT/q/health/live" >/dev/null 2>&1; then
    echo "Something already serves port $BENCH_HTTP_PORT: stop it, or pick other ports with BENCH_PORT=..." >&2
    exit 1
  fi
  echo "== server on port $BENCH_PORT, health on $BENCH_HTTP_PORT (builds first when needed; log: $log)"
  local extra=()
  [ -n "$config" ] && extra=("QUARKUS_CONFIG_LOCATIONS=$(realpath "$config")")
  env DISTILLERY_PORT="$BENCH_PORT" DISTILLERY_HTTP_PORT="$BENCH_HTTP_PORT" DISTILLERY_STORE="$work/store" DISTILLERY_JOBS="$work/jobs" "${extra[@]}" \
    ./distillery serve >>"$log" 2>&1 &
  BENCH_SERVER=$!
  # Stop the server on the way out with the script's own exit status (the SIGTERMed server's 143 is not it).
  trap 'status=$?; kill $BENCH_SERVER 2>/dev/null; wait $BENCH_SERVER 2>/dev/null || true; exit $status' EXIT
  # A build can take minutes; wait as long as the process lives.
  until curl -fs "http://localhost:$BENCH_HTTP_PORT/q/health/ready" >/dev/null 2>&1; do
    kill -0 "$BENCH_SERVER" 2>/dev/null || { tail -30 "$log" >&2; echo "the server did not start" >&2; exit 1; }
    sleep 2
  done
}

# The gRPC client (bench/distillery_client.py) against that server.
bench_client() {
  /usr/bin/python3 bench/distillery_client.py --target "localhost:$BENCH_PORT" "$@"
}

# The PyTorch peer (bench/pytorch_peer.py) with the server's thread count.
bench_peer() {
  bench/.venv/bin/python bench/pytorch_peer.py --threads "$BENCH_THREADS" "$@"
}
