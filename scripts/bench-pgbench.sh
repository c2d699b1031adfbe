#!/usr/bin/env bash
# pgbench -S through pgstitch, directly, and through PgBouncer (when pgbouncer is on PATH), in one run on
# the demo's embedded shards. Usage: [MODES="simple prepared"] [FLAGS=-C] scripts/bench-pgbench.sh [seconds] [clients]
# FLAGS=-C opens a new connection per transaction: what session pooling is for.
# POOL=transaction compares transaction pooling instead: pgstitch with `pool: { mode: transaction, size: 8 }` on
# the demo's shard1 and PgBouncer with pool_mode = transaction, default_pool_size = 8 (and
# max_prepared_statements = 200 where PgBouncer is 1.21 or newer; older ones cannot run -M prepared in
# transaction mode, so that cell is skipped for them), running TPC-B (not -S) in MODES (default simple extended
# prepared) with CLIENTS (default "16 64", or the second argument) each, and prints pgstitch/PgBouncer per cell.
# AUTH=scram-sha-256 (or md5) makes pgstitch and PgBouncer ask every client for its password, from the same
# users file (written by `pgstitch passwd`); the shards themselves stay trust, so "direct" logs in without one.
set -euo pipefail
export PGSSLMODE=disable  # plaintext everywhere, so that the three paths are compared like for like
cd "$(dirname "$0")/.."
. scripts/demo.sh
SECONDS_PER_RUN=${1:-10}
POOL=${POOL:-session}
case "$POOL" in
  session) CLIENTS=${2:-16}; MODES=${MODES:-simple prepared}; SELECT_ONLY=-S ;;
  transaction) CLIENTS=${2:-16 64}; MODES=${MODES:-simple extended prepared}; SELECT_ONLY= ;;
  *) echo "POOL must be session or transaction, not $POOL" >&2; exit 2 ;;
esac
MAX_CLIENTS=$(echo $CLIENTS | tr ' ' '\n' | sort -n | tail -1)
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

# wait_reload N: waits until the demo's log says "configuration applied" more than N times.
wait_reload() {
  for _ in $(seq 30); do [ "$(grep -c "configuration applied" "$WORK/demo.log")" -gt "$1" ] && return; sleep 1; done
  echo "pgstitch did not apply its edited configuration within 30 s:" >&2
  tail -20 "$WORK/demo.log" >&2
  exit 1
}

BOUNCER_AUTH=trust
echo '"postgres" ""' > "$WORK/users.txt"
if [ -n "${AUTH:-}" ]; then
  echo bench-password | ./pgstitch passwd postgres $([ "$AUTH" = md5 ] && echo --md5) > "$WORK/users.txt"
  applied=$(grep -c "configuration applied" "$WORK/demo.log" || true)
  sed -i "s|^  method: trust|  method: $AUTH\n  users_file: $WORK/users.txt|" "$WORK/pgstitch.yaml"
  wait_reload "$applied"
  export PGPASSWORD=bench-password
  BOUNCER_AUTH=$AUTH
fi

BOUNCER_POOL="pool_mode = session
default_pool_size = $((MAX_CLIENTS + 4))"
BOUNCER_PREPARED=yes
if [ "$POOL" = transaction ]; then
  applied=$(grep -c "configuration applied" "$WORK/demo.log" || true)
  sed -i -E 's|^(  shard1: \{.*[^ ]) *\}$|\1, pool: { mode: transaction, size: 8 } }|' "$WORK/pgstitch.yaml"
  grep -q 'shard1: .*mode: transaction' "$WORK/pgstitch.yaml" || { echo "could not set shard1's pool" >&2; exit 1; }
  wait_reload "$applied"
  BOUNCER_POOL="pool_mode = transaction
default_pool_size = 8"
  if command -v pgbouncer > /dev/null; then
    version=$(pgbouncer --version | head -1 | awk '{print $2}')
    if [ "$(printf '%s\n' 1.21.0 "$version" | sort -V | head -1)" = 1.21.0 ]; then
      BOUNCER_POOL="$BOUNCER_POOL
max_prepared_statements = 200"
    else
      BOUNCER_PREPARED=no
      echo "PgBouncer $version has no max_prepared_statements (1.21+): -M prepared is skipped for it" >&2
    fi
  fi
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
$BOUNCER_POOL
max_client_conn = 200
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

echo "pool: $POOL, $([ -n "$SELECT_ONLY" ] && echo 'pgbench -S' || echo 'TPC-B'), $SECONDS_PER_RUN s per run"
printf '%-10s %-9s %7s %12s %8s\n' target mode clients tps failed
declare -A TPS
for mode in $MODES; do
  for clients in $CLIENTS; do
    for target in "${targets[@]}"; do
      set -- $target
      if [ "$1" = pgbouncer ] && [ "$mode" = prepared ] && [ "$BOUNCER_PREPARED" = no ]; then
        printf '%-10s %-9s %7s %12s %8s\n' "$1" "$mode" "$clients" skipped -
        continue
      fi
      out=$(pgbench $SELECT_ONLY ${FLAGS:-} -M "$mode" -c "$clients" -j 2 -T "$SECONDS_PER_RUN" -h 127.0.0.1 -p "$2" -U postgres tenant_a 2>&1) || true
      tps=$(echo "$out" | grep -o 'tps = [0-9.]*' | head -1 | cut -d' ' -f3)
      failed=$(echo "$out" | grep -o 'failed transactions: [0-9]*' | cut -d' ' -f3)
      [ -z "$tps" ] && echo "$out" | tail -3 >&2
      TPS[$1/$mode/$clients]=${tps:-}
      printf '%-10s %-9s %7s %12s %8s\n' "$1" "$mode" "$clients" "${tps:-error}" "${failed:-?}"
    done
  done
done

if command -v pgbouncer > /dev/null; then
  echo
  printf '%-9s %7s %18s\n' mode clients pgstitch/pgbouncer
  for mode in $MODES; do
    for clients in $CLIENTS; do
      a=${TPS[pgstitch/$mode/$clients]:-}
      b=${TPS[pgbouncer/$mode/$clients]:-}
      if [ -n "$a" ] && [ -n "$b" ]; then
        ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
      else
        ratio=-
      fi
      printf '%-9s %7s %18s\n' "$mode" "$clients" "$ratio"
    done
  done
fi
