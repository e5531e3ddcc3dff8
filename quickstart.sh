#!/usr/bin/env bash
# One command runs the system: builds the jars if needed, starts the Boss on its embedded store and
# one local Worker, submits the seed's sample Job (examples/wine_seed_job.json), waits for its Outcome,
# prints it, and leaves both services running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")"

BOSS_PORT="${BOSS_PORT:-8080}"
WORKER_PORT="${WORKER_PORT:-8081}"
WORKER_MANAGEMENT_PORT="${WORKER_MANAGEMENT_PORT:-8082}"   # the Worker's health and metrics
PYTHON="${WORKER_PYTHON:-/usr/bin/python3}"
STATE="${QUICKSTART_DIR:-./quickstart}"
JOB="${1:-examples/wine_seed_job.json}"
mkdir -p "$STATE"

say() { printf '\n== %s\n' "$*"; }

# 1. The training scripts need PyTorch, scikit-learn and pandas.
if ! "$PYTHON" -c 'import torch, sklearn, pandas' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ "$PYTHON" = /usr/bin/python3 ]; then
    say "installing Debian's python3-torch, python3-sklearn, python3-pandas (no recommends)"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      python3 python3-torch python3-sklearn python3-pandas python3-numpy
  else
    cat >&2 <<MSG
The training scripts need PyTorch, scikit-learn and pandas for $PYTHON. Install them with either
  sudo apt-get install -y --no-install-recommends python3-torch python3-sklearn python3-pandas python3-numpy
or, in a virtual environment,
  pip install -r python-scripts/requirements.txt
and run this again with WORKER_PYTHON=/path/to/that/python if it is not /usr/bin/python3.
MSG
    exit 1
  fi
fi

# 2. Build the jars when they are missing or older than their sources.
stale() { [ ! -f "$1" ] || [ -n "$(find "$2" pom.xml -newer "$1" -type f -print -quit)" ]; }
if stale boss-service/target/boss-service.jar boss-service/src || stale worker-service/target/worker-service.jar worker-service/src; then
  say "building the jars (mvn package, tests skipped)"
  mvn -B -q -ntp -pl boss-service,worker-service -am package -DskipTests
fi

pids=()
cleanup() {
  say "stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

wait_for() { # url, name, pid, log
  for _ in $(seq 1 120); do
    curl -sf "$1" >/dev/null 2>&1 && return 0
    kill -0 "$3" 2>/dev/null || { echo "$2 exited; see $4" >&2; tail -20 "$4" >&2; exit 1; }
    sleep 0.5
  done
  echo "$2 did not start; see $4" >&2
  exit 1
}

# 3. The Boss, on the embedded store in $STATE/data.
say "starting the Boss on http://localhost:$BOSS_PORT (logs: $STATE/boss.log)"
SERVER_PORT="$BOSS_PORT" BOSS_STORE_DATA_DIR="$STATE/data" java -jar boss-service/target/boss-service.jar \
  >"$STATE/boss.log" 2>&1 &
pids+=($!)
wait_for "http://localhost:$BOSS_PORT/actuator/health" Boss "${pids[0]}" "$STATE/boss.log"

# 4. One local Worker.
say "starting a Worker (logs: $STATE/worker.log)"
SERVER_PORT="$WORKER_PORT" MANAGEMENT_SERVER_PORT="$WORKER_MANAGEMENT_PORT" \
  WORKER_BOSS_URL="http://localhost:$BOSS_PORT" WORKER_PYTHON="$PYTHON" WORKER_WORK_DIR="$STATE/work" WORKER_SPOOL_DIR="$STATE/spool" \
  java -jar worker-service/target/worker-service.jar >"$STATE/worker.log" 2>&1 &
pids+=($!)
wait_for "http://localhost:$WORKER_MANAGEMENT_PORT/actuator/health" Worker "${pids[1]}" "$STATE/worker.log"

# 5. Submit the sample Job and wait for its Outcome.
say "submitting $JOB"
created=$(curl -sf -XPOST "http://localhost:$BOSS_PORT/job/create" -H 'Content-Type: application/json' -d @"$JOB")
echo "$created"
job_id=$(printf '%s' "$created" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
say "waiting for job $job_id"
status=""
for _ in $(seq 1 600); do
  # The order's own status is its fourth field (_id, jobId, createdDate, status); history repeats the word.
  status=$(curl -sf "http://localhost:$BOSS_PORT/jobs/$job_id" \
    | sed -n 's/.*"order":{"_id":"[0-9a-f]*","jobId":"[0-9a-f]*","createdDate":"[^"]*","status":"\([a-z]*\)".*/\1/p')
  case "$status" in done|failed|cancelled) break ;; esac
  sleep 1
done
say "order $status; outcome:"
curl -sf "http://localhost:$BOSS_PORT/retrieve/outcome/$job_id" || echo "(no outcome)"
echo

say "running until Ctrl-C"
cat <<INFO
  Boss:    http://localhost:$BOSS_PORT      (jobs: /jobs, workers: /workers, health: /actuator/health)
  Worker:  http://localhost:$WORKER_PORT    (local runs: POST /scripts/run; health and metrics on :$WORKER_MANAGEMENT_PORT)
  Submit:  curl -XPOST localhost:$BOSS_PORT/job/create -H 'Content-Type: application/json' -d @examples/diabetes_good_job.json
INFO
wait
