# Sourced by the benchmark scripts (from the repository root): `pgstitch demo` in the background.

# start_demo PORT DIR LOG: runs the demo on PORT with its files in DIR and its output in LOG, waits until it
# listens, and sets DEMO_PID and SHARD_PORT (shard1's PostgreSQL, for direct runs).
start_demo() {
  ./pgstitch demo --port "$1" --dir "$2" > "$3" 2>&1 &
  DEMO_PID=$!
  for _ in $(seq 120); do grep -q "Press Ctrl-C" "$3" 2>/dev/null && break; sleep 1; done
  if ! grep -q "Press Ctrl-C" "$3"; then
    echo "pgstitch demo did not start within 120 s:" >&2
    tail -20 "$3" >&2
    exit 1
  fi
  SHARD_PORT=$(grep 'shard1:' "$2/pgstitch.yaml" | grep -o 'port: [0-9]*' | cut -d' ' -f2)
}

# stop_demo: SIGTERM, as an admin would, and waits for the shards to stop.
stop_demo() {
  [ -n "${DEMO_PID:-}" ] && kill -TERM "$DEMO_PID" 2>/dev/null && wait "$DEMO_PID" 2>/dev/null || true
}
