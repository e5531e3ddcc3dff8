#!/bin/sh
# deploy/k8s/make-secrets.sh [--force]      (NAMESPACE=maddatum by default)
#
# Creates the three Secrets the manifests refer to, with fresh random tokens (64 hex characters from
# /dev/urandom), so that no token is ever written into a file in the repository:
#   boss-tokens         submitter-tokens, worker-tokens, operator-tokens, metrics-tokens: the Boss's lists
#   worker-token        token: the Workers' token, mounted as a file (WORKER_TOKEN_FILE)
#   boss-metrics-token  token: KEDA's, for GET /fleet/demand (keda.yaml)
# It refuses to replace existing Secrets unless --force: new tokens lock out every running Worker until
# it restarts (kubectl -n maddatum rollout restart deployment boss worker-gpu).
set -eu
ns="${NAMESPACE:-maddatum}"
case "${1:-}" in
  --force) force=yes ;;
  "") force=no ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns"
if [ "$force" = no ] && kubectl -n "$ns" get secret boss-tokens >/dev/null 2>&1; then
  echo "secret boss-tokens exists in $ns; keeping it. Run $0 --force to replace every token." >&2
  exit 1
fi

token() {
  od -An -vtx1 -N32 /dev/urandom | tr -d ' \n'
}
umask 077
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
worker=$(token)
metrics=$(token)
token > "$dir/submitter-tokens"
token > "$dir/operator-tokens"
# Bound to the Worker pods' names (the Deployment worker-gpu names them worker-gpu-<hash>-<hash>): a
# token taken from one Worker cannot claim work as any other kind of node.
printf '%s:worker-gpu-*' "$worker" > "$dir/worker-tokens"
printf %s "$metrics" > "$dir/metrics-tokens"
printf %s "$worker" > "$dir/worker-token"
printf %s "$metrics" > "$dir/metrics-token"

# Files, not --from-literal: a token on kubectl's command line is visible to every user of this machine.
secret() {
  name=$1
  shift
  kubectl -n "$ns" create secret generic "$name" "$@" --dry-run=client -o yaml | kubectl apply -f -
}
secret boss-tokens --from-file="$dir/submitter-tokens" --from-file="$dir/worker-tokens" \
  --from-file="$dir/operator-tokens" --from-file="$dir/metrics-tokens"
secret worker-token --from-file=token="$dir/worker-token"
secret boss-metrics-token --from-file=token="$dir/metrics-token"
echo "Your submitter token: kubectl -n $ns get secret boss-tokens -o jsonpath='{.data.submitter-tokens}' | base64 -d"
