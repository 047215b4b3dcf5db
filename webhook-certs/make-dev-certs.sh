#!/usr/bin/env bash
# Makes development certificates for the Cloudbase webhook in webhook-certs/out/ (git-ignored):
# a fresh CA (ca.crt) and a serving certificate (tls.crt, tls.key) for cloudbase-webhook.cloudbase-system.svc
# and 127.0.0.1. Extra arguments go to `cloudbase certs`, e.g. `--days 30` or `--ip 10.0.0.5`.
# Needs a build first: npm run build.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

if [[ ! -f dist/cli/main.js ]]; then
  echo "make-dev-certs: dist/cli/main.js not found in $repo_root; run 'npm run build' first" >&2
  exit 1
fi

exec node dist/cli/main.js certs \
  --out webhook-certs/out \
  --service cloudbase-webhook \
  --namespace cloudbase-system \
  --ip 127.0.0.1 \
  "$@"
