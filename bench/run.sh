#!/usr/bin/env bash
# Benchmarks the packaged Boss and Worker and writes bench/RESULTS.md and bench/results.json.
#   bench/run.sh           full sizes (about 40 minutes on 2 cores; sweeps alone about 10)
#   bench/run.sh --smoke   tiny sizes, results in bench/target/bench/ (CI runs this through mvn verify)
#   bench/run.sh --only readPaths   one measure again, merged into bench/RESULTS.md with its own machine line
#   bench/run.sh --report           RESULTS.md rewritten from results.json, nothing measured
# BENCH_JVM=deployed runs the services with the images' JVM flags (default: the tests'); BENCH_JFR=<folder>
# records a flight of each service there. BENCH_WORKER_ENV='NAME=value;...' gives every Worker those variables
# (WORKER_WARM_INTERPRETER_PRELOAD= measures without the preload).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -ntp -pl test-support install -DskipTests
mvn -B -q -ntp -pl boss-service,worker-service package -DskipTests
mvn -B -q -ntp -pl bench compile exec:java -Dexec.mainClass=com.maddatum.bench.BenchMain \
  -Dexec.args="$*" -Drepo.dir="$PWD" -Dbench.jvm="${BENCH_JVM:-test}" -Dbench.jfr="${BENCH_JFR:-}" \
  -Dbench.workerEnv="${BENCH_WORKER_ENV:-}"
