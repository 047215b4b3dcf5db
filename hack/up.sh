#!/usr/bin/env bash
# npm run up: the main job. Builds and starts the local cluster (cluster/up.sh), builds the runtime image,
# runs Cloudbase (controller + webhooks, `cloudbase controller --cert-dir`) on the host against it, registers
# the webhooks from manifests/ pointed at it, deploys examples/hello and prints the URL to curl.
# Until Cloudbase installs itself into the cluster (manifests/, the install issue), it runs on the host.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
STATE=$REPO/.cluster/cloudbase
PID_FILE=$STATE/cloudbase.pid
LOG_FILE=$STATE/cloudbase.log
WEBHOOK_PORT=8443

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

# Cloudbase on the host, reachable by the API server at the host end of the node's link.
bash hack/stop-cloudbase.sh
mkdir -p "$STATE"
node dist/cli/main.js certs --out "$STATE/certs" --service cloudbase-webhook --namespace cloudbase-system \
  --ip "$CLUSTER_HOST_IP" >/dev/null
"$KUBECTL" create namespace cloudbase-system --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
log "starting Cloudbase on https://$CLUSTER_HOST_IP:$WEBHOOK_PORT (log: $LOG_FILE)"
nohup node dist/cli/main.js controller --kubeconfig "$KUBECONFIG" --lease-namespace cloudbase-system \
  --identity "host-$(hostname)" --cert-dir "$STATE/certs" --webhook-port "$WEBHOOK_PORT" \
  --metrics-host "$CLUSTER_HOST_IP" --metrics-port 9091 --runtime-image "nodejs22=$RUNTIME_NODEJS22_IMAGE" \
  >"$LOG_FILE" 2>&1 &
echo $! >"$PID_FILE"
for _ in $(seq 100); do
  curl -sf "http://$CLUSTER_HOST_IP:9091/readyz" >/dev/null && break
  [[ -d /proc/$(<"$PID_FILE") ]] || die "Cloudbase exited; see $LOG_FILE"
  sleep 0.3
done
node hack/register-webhooks.mjs "$KUBECONFIG" "https://$CLUSTER_HOST_IP:$WEBHOOK_PORT" "$STATE/certs/ca.crt"

log "deploying examples/hello"
"$KUBECTL" apply -f examples/hello/function.yaml
"$KUBECTL" -n default rollout status deployment/hello --timeout=180s
url="$TRAEFIK_URL/hello"
for _ in $(seq 60); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$url") == 200 ]] && break
  sleep 0.5
done
log "ready: curl '$url?name=you'"
curl -s "$url?name=you"
echo
