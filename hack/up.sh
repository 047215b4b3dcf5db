#!/usr/bin/env bash
# npm run up: the main job. Builds and starts the local cluster (cluster/up.sh), builds Cloudbase's images
# from the Dockerfile, installs Cloudbase into the cluster as a user would (`kubectl apply -k` of
# manifests/overlays/local, hack/install.sh), deploys examples/hello and prints the URL to curl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '%s [up] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "run as root: the local cluster needs network namespaces, mounts and cgroups"
if [[ ! -f node_modules/.package-lock.json ]]; then
  log "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
log "building Cloudbase"
npm run --silent build

bash cluster/up.sh
set -a
# shellcheck source=/dev/null
. .cluster/env
set +a
bash cluster/build-cloudbase-images.sh
set -a
# shellcheck source=/dev/null
. .cluster/images.env
set +a

# A Cloudbase an older `npm run up` ran on the host would answer for the webhooks: stop it first.
bash hack/stop-cloudbase.sh
bash hack/install.sh

log "deploying examples/hello"
"$KUBECTL" apply -f examples/hello/function.yaml
# The local install builds functions into images: hello's Deployment stays paused until its first image is
# built (README, "Image builds"), and a paused Deployment cannot be restarted.
log "building hello's image"
"$KUBECTL" -n default wait deployment/hello --timeout=180s \
  --for=jsonpath='{.metadata.annotations.cloudbase\.dev/build-status}'=Succeeded
# An unchanged apply is not admitted again, so a hello left by an older Cloudbase would keep its old template
# (images since pruned); a restart re-admits it with today's injection.
"$KUBECTL" -n default rollout restart deployment/hello
"$KUBECTL" -n default rollout status deployment/hello --timeout=180s
url="$TRAEFIK_URL/hello"
for _ in $(seq 60); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$url") == 200 ]] && break
  sleep 0.5
done
log "ready: curl '$url?name=you'"
curl -s "$url?name=you"
echo
