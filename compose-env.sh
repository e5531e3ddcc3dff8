#!/bin/sh
# ./compose-env.sh [--force]
#
# Writes .env for docker compose with a fresh random token for each role (64 hex characters from
# /dev/urandom; the Boss wants at least 32), readable by you only, and ./worker_token with the same
# worker token for docker-compose.token-file.yml. It refuses to replace either file unless --force:
# new tokens lock out every Worker and script still holding the old ones.
set -eu
cd "$(dirname "$0")"

case "${1:-}" in
  --force) force=yes ;;
  "") force=no ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac
for file in .env worker_token; do
  if [ -e "$file" ] && [ "$force" = no ]; then
    echo "$file exists; keeping it. Run $0 --force to replace it (and every token in it)." >&2
    exit 1
  fi
done

token() {
  od -An -vtx1 -N32 /dev/urandom | tr -d ' \n'
}
submitter=$(token)
worker=$(token)
operator=$(token)
metrics=$(token)

umask 077
tmp=$(mktemp .env.XXXXXX)
trap 'rm -f "$tmp"' EXIT
cat > "$tmp" <<ENV
# Written by ./compose-env.sh; see .env.example for what each line is for.
SUBMITTER_TOKEN=$submitter
WORKER_TOKEN=$worker
OPERATOR_TOKEN=$operator
METRICS_TOKEN=$metrics
BOSS_PORT=${BOSS_PORT:-8080}
ENV
chmod 600 "$tmp"
mv "$tmp" .env
trap - EXIT
# The Workers' container user (uid 10001) reads it through the Docker secret's bind mount.
printf %s "$worker" > worker_token
chmod 644 worker_token
echo "wrote .env (mode 600) and worker_token. Submit jobs with: Authorization: Bearer <SUBMITTER_TOKEN from .env>"
