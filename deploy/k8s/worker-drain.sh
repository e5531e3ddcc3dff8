#!/bin/sh
# preStop of a Worker pod. Kubernetes runs it before SIGTERM, inside terminationGracePeriodSeconds:
# it asks the Boss to drain this node (no new orders; the running ones go on), then waits until the
# Boss says `drained`, at most DRAIN_WAIT_SECONDS. Then the Worker gets its SIGTERM with nothing left to
# run, or, if a job outlasts the wait, its own shutdown (worker.shutdown-grace, then the kill and the
# hand-back of the order) takes over as it would without this hook. The drain is the node's own, and
# node names are pod names, so it never outlives the pod: a new pod is a new node.
#
# It always exits 0: a preStop that fails only adds an event, and the Worker's shutdown is the fallback.
# Reads WORKER_BOSS_URL, WORKER_NODE_NAME and WORKER_TOKEN_FILE, the Worker's own settings.
set -u

wait_s="${DRAIN_WAIT_SECONDS:-1800}"    # how long running jobs get to finish
ask_s="${DRAIN_ASK_SECONDS:-60}"         # how long to keep asking a Boss that does not answer
poll_s="${DRAIN_POLL_SECONDS:-5}"
node_url="${WORKER_BOSS_URL%/}/workers/${WORKER_NODE_NAME}"
token="$(cat "${WORKER_TOKEN_FILE}")" || { echo "drain: no token file, not draining"; exit 0; }

# The header reaches curl on its stdin (-H @-), never on its command line, where every process in the
# pod could read it (/proc/<pid>/cmdline); printf is the shell's own, so no process sees it either.
boss() {
  printf 'Authorization: Bearer %s\n' "$token" | curl -sS -m 10 -H @- "$@"
}

start=$(date +%s)
while :; do
  code=$(boss -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '{"reason":"pod terminating (preStop)"}' "${node_url}/drain")
  case "$code" in
    2??) break ;;
    404) echo "drain: the Boss does not know ${WORKER_NODE_NAME}; nothing to wait for"; exit 0 ;;
    401|403) echo "drain: the Boss refused the token (HTTP ${code}); not draining"; exit 0 ;;
  esac
  if [ $(( $(date +%s) - start )) -ge "$ask_s" ]; then
    echo "drain: no answer from the Boss (last HTTP ${code}); leaving it to the Worker's shutdown"
    exit 0
  fi
  sleep "$poll_s"
done

# The wait counts from the hook's start, asking included: the grace period is sized on wait_s, plus the
# Worker's own shutdown budget, plus one last request and poll (at most 10 s + poll_s).
deadline=$(( start + wait_s ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  body=$(boss "${node_url}")
  # The top-level "state" exactly; python3 is in the image anyway, it runs the jobs. A quarantined node
  # stays "quarantined" (that outranks drained), so for it an empty currentOrders is what "drained" means.
  state=$(printf '%s' "$body" | "${WORKER_PYTHON:-python3}" -c \
    'import json, sys; d = json.load(sys.stdin); s = d.get("state", "")
print("drained" if s == "quarantined" and not d.get("currentOrders") else s)' 2>/dev/null)
  case "$state" in
    # offline: the Boss has not heard from the Worker for a while, so it runs nothing it knows of.
    drained|offline) echo "drain: ${WORKER_NODE_NAME} is ${state}"; exit 0 ;;
  esac
  sleep "$poll_s"
done
echo "drain: still ${state:-unknown} after ${wait_s}s; the Worker's shutdown hands the rest back"
exit 0
