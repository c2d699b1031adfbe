#!/usr/bin/env bash
# JMH benchmarks of sql-split (LexerBenchmark). Extra arguments go to JMH, e.g. -f 1 -wi 2 -i 3.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -pl sql-split -am test-compile
./mvnw -B -q -pl sql-split dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test
exec java -cp "$(cat sql-split/target/bench.cp):sql-split/target/classes:sql-split/target/test-classes" \
  org.openjdk.jmh.Main LexerBenchmark "$@"
