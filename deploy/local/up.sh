#!/usr/bin/env bash
# The docker-compose topology as local processes, for trying scaling without a container engine:
# PostgreSQL (the Debian `postgresql` package's binaries, a throwaway server), one gateway+coordinator, N workers,
# formed through Cluster Bootstrap on config discovery (the coordinator's HTTP port is the contact point).
#
#   deploy/local/up.sh start [WORKERS]   start everything (default 2 workers); prints the gRPC and HTTP addresses
#   deploy/local/up.sh scale N           start or stop workers until N run; stopping is SIGTERM (coordinated shutdown:
#                                        the worker hands back its leases and leaves the cluster)
#   deploy/local/up.sh status            what runs, and the coordinator's /readyz
#   deploy/local/up.sh stop              SIGTERM to every node, then PostgreSQL; removes the state directory
#
# Environment: LANTERN_LOCAL_DIR (state, logs; default /tmp/lantern-local), LANTERN_DLL (a built lantern.dll; default
# src/Cli/bin/Release/net10.0/lantern.dll, built if missing), LANTERN_LOCAL_GRPC_PORT / _HTTP_PORT (default 5000 / 8080).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
state="${LANTERN_LOCAL_DIR:-/tmp/lantern-local}"
dll="${LANTERN_DLL:-$root/src/Cli/bin/Release/net10.0/lantern.dll}"
grpc_port="${LANTERN_LOCAL_GRPC_PORT:-5000}"
http_port="${LANTERN_LOCAL_HTTP_PORT:-8080}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

wait_ready() { # $1 = HTTP port: polls /readyz until 200 (a node is Up with its roles ready)
  for _ in $(seq 1 240); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz" 2>/dev/null || true)" = 200 ]; then return 0; fi
    sleep 0.5
  done
  echo "node on HTTP port $1 did not become ready; see $state/*.log" >&2
  return 1
}

start_node() { # $1 = name, $2 = roles, rest = extra options
  local name=$1 roles=$2; shift 2
  # Every node listens on loopback only, so the local topology runs open (no API keys) unless LANTERN_NO_AUTH=0.
  env -u LANTERN_ROLES XDG_DATA_HOME="$state/$name" LANTERN_NO_AUTH="${LANTERN_NO_AUTH:-1}" \
    LANTERN_DISCOVERY=config LANTERN_CONTACT_POINTS="127.0.0.1:$http_port" LANTERN_CLUSTER_HOST=127.0.0.1 \
    dotnet "$dll" serve --roles "$roles" --provider cpu "$@" >"$state/$name.log" 2>&1 &
  echo $! >"$state/$name.pid"
}

workers() { ls "$state"/worker-*.pid 2>/dev/null | sort -V || true; }

scale() {
  local want=$1 have
  have=$(workers | wc -l)
  while [ "$have" -lt "$want" ]; do
    local n; n=$(( $(workers | sed 's/.*worker-\([0-9]*\).pid/\1/' | sort -n | tail -n 1 || echo 0) + 1 ))
    mkdir -p "$state/worker-$n"
    local http; http=$(free_port)
    # One worker actor per process: these processes share one machine (left to choose, each takes a worker per core).
    start_node "worker-$n" worker --port 0 --http-port "$http" --cluster-port 0 --workers 1
    echo "$http" >"$state/worker-$n.http"
    wait_ready "$http"
    echo "worker-$n up (pid $(cat "$state/worker-$n.pid"), HTTP 127.0.0.1:$http)"
    have=$((have + 1))
  done
  while [ "$have" -gt "$want" ]; do
    local pidfile; pidfile=$(workers | tail -n 1)
    local pid; pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done # its coordinated shutdown ends with the process
    rm -f "$pidfile" "${pidfile%.pid}.http"
    echo "$(basename "${pidfile%.pid}") left (SIGTERM)"
    have=$((have - 1))
  done
}

case "${1:-}" in
  start)
    [ -e "$state/coordinator.pid" ] && { echo "already running in $state (deploy/local/up.sh stop first)" >&2; exit 1; }
    [ -f "$dll" ] || dotnet build -c Release "$root/src/Cli" -v quiet
    bin=$(pg_bin); [ -n "$bin" ] || { echo "PostgreSQL binaries missing: apt-get install postgresql" >&2; exit 1; }
    mkdir -p "$state/coordinator"
    # The server's own directory, outside $state: run as root, initdb runs as `postgres`, which may not enter $state.
    pg=$(mktemp -d /tmp/lantern-local-pg-XXXXXX); echo "$pg" >"$state/pg.dir"; mkdir -p "$pg/socket"
    if [ "$(id -u)" = 0 ]; then chown -R postgres: "$pg"; fi
    pg_port=$(free_port)
    (cd "$pg" && as_pg "$bin/initdb" -D "$pg/data" -U lantern --auth=trust --encoding=UTF8 --locale=C --no-sync >/dev/null)
    (cd "$pg" && as_pg "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg/socket -c fsync=off" start >/dev/null)
    echo "$pg_port" >"$state/pg.port"
    (cd "$pg" && as_pg "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U lantern lantern)
    start_node coordinator gateway,coordinator --port "$grpc_port" --http-port "$http_port" --cluster-port 0 \
      --postgres "Host=127.0.0.1;Port=$pg_port;Username=lantern;Database=lantern"
    wait_ready "$http_port"
    echo "coordinator up (pid $(cat "$state/coordinator.pid")): gRPC http://127.0.0.1:$grpc_port, HTTP http://127.0.0.1:$http_port"
    scale "${2:-2}"
    ;;
  scale)
    [ -e "$state/coordinator.pid" ] || { echo "not running (deploy/local/up.sh start)" >&2; exit 1; }
    scale "${2:?scale N}"
    ;;
  status)
    for pidfile in "$state"/*.pid; do
      [ -e "$pidfile" ] && echo "$(basename "${pidfile%.pid}") pid $(cat "$pidfile") $(kill -0 "$(cat "$pidfile")" 2>/dev/null && echo running || echo gone)"
    done
    curl -s "http://127.0.0.1:$http_port/readyz"; echo
    ;;
  stop)
    scale 0 2>/dev/null || true
    if [ -e "$state/coordinator.pid" ]; then
      pid=$(cat "$state/coordinator.pid"); kill -TERM "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    bin=$(pg_bin)
    if [ -f "$state/pg.dir" ]; then
      pg=$(cat "$state/pg.dir")
      [ -d "$pg/data" ] && (cd "$pg" && as_pg "$bin/pg_ctl" -D "$pg/data" -m fast -w stop >/dev/null || true)
      rm -rf "$pg"
    fi
    rm -rf "$state"
    echo "stopped"
    ;;
  *)
    sed -n '2,14p' "$0"; exit 2
    ;;
esac
