#!/usr/bin/env bash
# npm run down: stops the Cloudbase that hack/up.sh started on the host, then the local cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -f .cluster/env ]] && bash cluster/status.sh >/dev/null 2>&1; then
  bash hack/stop-cloudbase.sh
fi
bash cluster/down.sh "$@"
