#!/usr/bin/env bash
# pgbench -S through pgstitch, directly, and through PgBouncer (when pgbouncer is on PATH), in one run on
# the demo's embedded shards. Usage: [MODES="simple prepared"] [FLAGS=-C] scripts/bench-pgbench.sh [seconds] [clients]
# FLAGS=-C opens a new connection per transaction: what session pooling is for.
# AUTH=scram-sha-256 (or md5) makes pgstitch and PgBouncer ask every client for its password, from the same
# users file (written by `pgstitch passwd`); the shards themselves stay trust, so "direct" logs in without one.
set -euo pipefail
export PGSSLMODE=disable  # plaintext everywhere, so that the three paths are compared like for like
cd "$(dirname "$0")/.."
. scripts/demo.sh
SECONDS_PER_RUN=${1:-10}
CLIENTS=${2:-16}
WORK=$(mktemp -d /tmp/pgstitch-bench.XXXXXX)
chmod 755 "$WORK"
PROXY_PORT=6532
BOUNCER_PORT=6542

cleanup() {
  [ -f "$WORK/pgbouncer.pid" ] && kill "$(cat "$WORK/pgbouncer.pid")" 2>/dev/null || true
  stop_demo
  rm -rf "$WORK"
}
trap cleanup EXIT

start_demo "$PROXY_PORT" "$WORK" "$WORK/demo.log"
pgbench -i -s 10 -q -h 127.0.0.1 -p "$SHARD_PORT" -U postgres tenant_a > /dev/null 2>&1

BOUNCER_AUTH=trust
echo '"postgres" ""' > "$WORK/users.txt"
if [ -n "${AUTH:-}" ]; then
  echo bench-password | ./pgstitch passwd postgres $([ "$AUTH" = md5 ] && echo --md5) > "$WORK/users.txt"
  sed -i "s|^  method: trust|  method: $AUTH\n  users_file: $WORK/users.txt|" "$WORK/pgstitch.yaml"
  for _ in $(seq 30); do grep -q "configuration applied" "$WORK/demo.log" && break; sleep 1; done
  export PGPASSWORD=bench-password
  BOUNCER_AUTH=$AUTH
fi

targets=("direct $SHARD_PORT" "pgstitch $PROXY_PORT")
if command -v pgbouncer > /dev/null; then
  cat > "$WORK/pgbouncer.ini" <<INI
[databases]
tenant_a = host=127.0.0.1 port=$SHARD_PORT dbname=tenant_a user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
auth_type = $BOUNCER_AUTH
auth_file = $WORK/users.txt
pool_mode = session
max_client_conn = 200
default_pool_size = $((CLIENTS + 4))
logfile = $WORK/pgbouncer.log
pidfile = $WORK/pgbouncer.pid
INI
  if [ "$(id -u)" = 0 ]; then
    chown -R nobody "$WORK"
    setpriv --reuid=nobody --regid=nogroup --clear-groups pgbouncer -d "$WORK/pgbouncer.ini"
  else
    pgbouncer -d "$WORK/pgbouncer.ini"
  fi
  sleep 1
  targets+=("pgbouncer $BOUNCER_PORT")
fi

printf '%-10s %-9s %12s %8s\n' target mode tps failed
for mode in ${MODES:-simple prepared}; do
  for target in "${targets[@]}"; do
    set -- $target
    out=$(pgbench -S ${FLAGS:-} -M "$mode" -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -h 127.0.0.1 -p "$2" -U postgres tenant_a 2>&1)
    tps=$(echo "$out" | grep -o 'tps = [0-9.]*' | head -1 | cut -d' ' -f3)
    failed=$(echo "$out" | grep -o 'failed transactions: [0-9]*' | cut -d' ' -f3)
    printf '%-10s %-9s %12s %8s\n' "$1" "$mode" "$tps" "${failed:-?}"
  done
done
