#!/usr/bin/env bash
# Removes an in-cluster Cloudbase (`kubectl delete -k manifests/`: the same names whatever overlay installed it;
# the generated ConfigMap goes with the namespace), waiting until it is gone. Functions' Deployments and their
# children stay, as they do for a user who uninstalls.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -f .cluster/env ]] || exit 0
set -a
# shellcheck source=/dev/null
. .cluster/env
set +a
if "$KUBECTL" get namespace cloudbase-system -o name >/dev/null 2>&1 ||
  "$KUBECTL" get mutatingwebhookconfiguration cloudbase -o name >/dev/null 2>&1; then
  echo "uninstalling Cloudbase (kubectl delete -k manifests/)"
  "$KUBECTL" delete -k manifests/ --ignore-not-found --wait=true --timeout=180s >/dev/null
fi
# The event bus component's cluster-wide roles (manifests/nats/ingest.yaml), which manifests/ does not hold.
"$KUBECTL" delete clusterrole,clusterrolebinding -l app.kubernetes.io/name=cloudbase-ingest --ignore-not-found >/dev/null
