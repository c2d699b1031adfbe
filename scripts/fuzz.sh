#!/usr/bin/env sh
# A long run of the mutation fuzzer (integration-tests MutationFuzzIT) against pgstitch in front of the embedded
# PostgreSQL 18, then its summary: outcomes by kind, failures with how to replay each.
#
#   scripts/fuzz.sh [ITERATIONS [SEED]]      defaults: 50000, a random seed
#   FUZZ_HANG_SECONDS=5                      how long a half-closed replay may go unanswered
#
# Replay one case: ./mvnw -B -pl integration-tests -am verify -Dit.test='MutationFuzzIT#mutatedSessions'
#   -Dfuzz.backend=embedded -Dfuzz.seed=SEED -Dfuzz.case=I -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
# (about 9 mutations a second on two cores: 50 000 take an hour and a half)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ITERATIONS=${1:-50000}
SEED=${2:-$(od -An -N8 -td8 /dev/urandom | tr -d ' ')}
OUT="$ROOT/integration-tests/target/fuzz"
cd "$ROOT"
mkdir -p "$OUT"
rm -f "$OUT/summary-embedded.txt"
rm -rf integration-tests/target/failsafe-reports integration-tests/target/failsafe-reports-pg15 # stale summaries
echo "fuzz.sh: $ITERATIONS mutations, seed $SEED; log in $OUT/fuzz.log" >&2
status=0
./mvnw -B -pl integration-tests -am verify -Dit.test='MutationFuzzIT#mutatedSessions' -Dfuzz.backend=embedded \
  -Dfuzz.iterations="$ITERATIONS" -Dfuzz.seed="$SEED" \
  -Dfuzz.hangSeconds="${FUZZ_HANG_SECONDS:-5}" -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  > "$OUT/fuzz.log" 2>&1 || status=$?
if [ -f "$OUT/summary-embedded.txt" ]; then
  cat "$OUT/summary-embedded.txt"
else
  echo "fuzz.sh: no summary was written; the end of the log:" >&2
  tail -40 "$OUT/fuzz.log" >&2
fi
[ "$status" -eq 0 ] && echo "fuzz.sh: seed $SEED passed" || echo "fuzz.sh: seed $SEED FAILED (exit $status)"
exit "$status"
