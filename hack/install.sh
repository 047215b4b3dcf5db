#!/usr/bin/env bash
# Installs Cloudbase into the local cluster the way a user installs it on theirs: `kubectl apply -k` of
# manifests/overlays/local, on top of which this writes .cluster/install/kustomization.yaml pinning the image
# tags cluster/build-cloudbase-images.sh just built (their tags are hashes of their inputs), and copies the
# runtime image into the registry as the builds' base. Waits until Cloudbase admits functions.
# CLOUDBASE_INSTALL_ARGS adds controller flags (the tests shorten certificate lifetimes).
# Needs .cluster/env (cluster/up.sh) and .cluster/images.env (cluster/build-cloudbase-images.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
set -a
# shellcheck source=/dev/null
. .cluster/env
# shellcheck source=/dev/null
. .cluster/images.env
set +a
DIR=.cluster/install
mkdir -p "$DIR"
# CLOUDBASE_INSTALL_RUNTIME_NODEJS22 names another nodejs22 runtime image, for the functions and as the
# builds' base (the builds e2e uses the one that also trusts the test CA, for its https:// sources).
RUNTIME_NODEJS22_IMAGE=${CLOUDBASE_INSTALL_RUNTIME_NODEJS22:-$RUNTIME_NODEJS22_IMAGE}
# Image builds put their layers on the runtime image; the registry gets a copy of it below
# (cluster/push-build-base.sh), under this name.
BUILD_BASE=cloudbase-registry.cloudbase-system.svc:5000/cloudbase/$(basename "${RUNTIME_NODEJS22_IMAGE%:*}"):${RUNTIME_NODEJS22_IMAGE##*:}
{
  cat <<YAML
# Written by hack/install.sh: manifests/overlays/local with the tags built on this machine.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../manifests/overlays/local
images:
  - name: ${CLOUDBASE_IMAGE%:*}
    # Quoted: a tag of digits only (a content hash can be one) would be a YAML number, which kustomize refuses.
    newTag: "${CLOUDBASE_IMAGE##*:}"
configMapGenerator:
  - name: cloudbase-runtime-images
    namespace: cloudbase-system
    behavior: merge
    literals:
      - runtime-images=nodejs20=registry.local/cloudbase/runtime-nodejs20:local,nodejs22=$RUNTIME_NODEJS22_IMAGE,nodejs24=registry.local/cloudbase/runtime-nodejs24:local
YAML
  echo "patches:"
  echo "  - target: {kind: Deployment, name: cloudbase, namespace: cloudbase-system}"
  echo "    patch: |-"
  for arg in "--build-base-image=nodejs22=$BUILD_BASE" ${CLOUDBASE_INSTALL_ARGS:-}; do
    echo "      - {op: add, path: /spec/template/spec/containers/0/args/-, value: \"$arg\"}"
  done
} >"$DIR/kustomization.yaml"
echo "installing Cloudbase (kubectl apply -k $DIR, over manifests/overlays/local)"
"$KUBECTL" apply -k "$DIR" >/dev/null
"$KUBECTL" -n cloudbase-system rollout status deployment/cloudbase --timeout=180s
"$KUBECTL" -n cloudbase-system rollout status deployment/cloudbase-activator --timeout=180s
"$KUBECTL" -n cloudbase-system rollout status deployment/cloudbase-registry --timeout=180s
"$KUBECTL" -n cloudbase-system rollout status statefulset/cloudbase-nats --timeout=180s
"$KUBECTL" -n cloudbase-system rollout status deployment/cloudbase-ingest --timeout=180s
pushed=$(bash cluster/push-build-base.sh "$RUNTIME_NODEJS22_IMAGE")
[[ $pushed == "$BUILD_BASE" ]] || { echo "the registry has $pushed, not $BUILD_BASE" >&2; exit 1; }
# Ready pods are not yet a reachable webhook: the Service's endpoints reach kube-proxy a moment later, and
# until then the API server's call is refused (failurePolicy Fail refuses the function). Wait until a
# server-side dry run of a function is admitted through the webhooks.
probe='{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"cloudbase-install-probe","namespace":"default",
"annotations":{"cloudbase.dev/function":"true","cloudbase.dev/source":"configmap:cloudbase-install-probe"}},
"spec":{"replicas":0,"template":{"spec":{"containers":[{"name":"function"}]}}}}'
for attempt in $(seq 120); do
  if out=$("$KUBECTL" apply --dry-run=server -o name -f - <<<"$probe" 2>&1); then
    echo "Cloudbase admits functions (after $attempt attempts)"
    exit 0
  fi
  sleep 0.5
done
echo "Cloudbase's webhooks do not answer after 60 s: $out" >&2
exit 1
