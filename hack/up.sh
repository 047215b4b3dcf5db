#!/usr/bin/env bash
# The README's main job, for now: install, build, make fresh development certificates, and serve the admission
# webhooks on https://127.0.0.1:8443 until Ctrl-C. The local cluster that calls them comes with its own issue.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "==> installing dependencies (npm ci)"
npm ci --no-audit --no-fund
echo "==> building"
npm run build
echo "==> making development certificates in webhook-certs/out/"
bash webhook-certs/make-dev-certs.sh
cat <<MSG
==> serving the webhooks on https://127.0.0.1:8443 (Ctrl-C stops)
    try, from another terminal:
      curl --cacert webhook-certs/out/ca.crt -H 'content-type: application/json' \\
        --data @examples/hello/admission-review.json https://127.0.0.1:8443/mutate
MSG
exec node dist/cli/main.js webhook --cert-dir webhook-certs/out --host 127.0.0.1 --port 8443
