#!/usr/bin/env bash
# The latency an RPC call adds: the median of N calls of a trivial RPC function (iasql_noop(), one client,
# one call per transaction) directly and through pgstitch, plus a plain statement through pgstitch for the
# proxy's own share. Runs on the demo's embedded shards. Usage: scripts/bench-rpc.sh [calls] [mode]
set -euo pipefail
export PGSSLMODE=disable
cd "$(dirname "$0")/.."
. scripts/demo.sh
CALLS=${1:-1000}
MODE=${2:-simple}
WORK=$(mktemp -d /tmp/pgstitch-bench-rpc.XXXXXX)
chmod 755 "$WORK"
PROXY_PORT=6533

cleanup() {
  stop_demo
  rm -rf "$WORK"
}
trap cleanup EXIT

start_demo "$PROXY_PORT" "$WORK/demo" "$WORK/demo.log"
echo 'SELECT iasql_noop();' > "$WORK/rpc.sql"
echo 'SELECT $$ok$$;' > "$WORK/plain.sql"

# median latency in microseconds of one pgbench run, from its per-transaction log (3rd column)
median() {
  local name=$1 port=$2 script=$3
  # warm-up (the JIT, the pools), not measured
  pgbench -n -M "$MODE" -c 1 -t 200 -f "$WORK/$script" -h 127.0.0.1 -p "$port" -U postgres tenant_a > /dev/null 2>&1
  (cd "$WORK" && pgbench -n -M "$MODE" -c 1 -t "$CALLS" -f "$script" -l --log-prefix="$name" \
      -h 127.0.0.1 -p "$port" -U postgres tenant_a > /dev/null 2>&1)
  cat "$WORK/$name".[0-9]* | awk 'NF >= 3 {print $3}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

direct=$(median direct "$SHARD_PORT" rpc.sql)
proxied=$(median proxied "$PROXY_PORT" rpc.sql)
plain=$(median plain "$PROXY_PORT" plain.sql)
plain_direct=$(median plaindirect "$SHARD_PORT" plain.sql)
printf 'median of %s calls, %s protocol, in microseconds\n' "$CALLS" "$MODE"
printf '%-40s %8s\n' "iasql_noop() directly" "$direct" "iasql_noop() through pgstitch (RPC)" "$proxied" \
  "select 'ok' directly" "$plain_direct" "select 'ok' through pgstitch" "$plain"
printf 'an RPC call adds %s us over a direct call (%s us over a plain statement through pgstitch)\n' \
  "$((proxied - direct))" "$((proxied - plain))"
