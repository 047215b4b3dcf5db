#!/usr/bin/env bash
# Copies the runtime image cluster/build-cloudbase-images.sh built (or the one given as $1) into Cloudbase's registry
# (manifests/registry), so that image builds can put functions' layers on it: the cluster's own images are
# only in containerd, where a build pod's crane cannot pull them. Pushes through the registry's NodePort
# (plain HTTP, the local cluster only) unless the registry has it already, and prints its in-cluster name.
# Needs a running cluster with Cloudbase installed (hack/install.sh calls it).
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/cloudbase-images.sh
source "$CLUSTER_DIR/lib/cloudbase-images.sh"
# shellcheck source=/dev/null
source "$IMAGES_ENV_FILE"

registry_answers() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$NODE_IP:$FUNCTION_REGISTRY_NODE_PORT/v2/") == 200 ]]
}

main() {
  local image=${1:-$RUNTIME_NODEJS22_IMAGE} repository tag
  repository=cloudbase/$(basename "${image%:*}")
  tag=${image##*:}
  wait_for "the registry at $NODE_IP:$FUNCTION_REGISTRY_NODE_PORT" 120 registry_answers >&2
  if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -I \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://$NODE_IP:$FUNCTION_REGISTRY_NODE_PORT/v2/$repository/manifests/$tag") != 200 ]]; then
    log "pushing $image to the registry as $FUNCTION_REGISTRY/$repository:$tag" >&2
    "${BUILDAH_OVERLAY[@]}" push --quiet --tls-verify=false "$image" \
      "docker://$NODE_IP:$FUNCTION_REGISTRY_NODE_PORT/$repository:$tag" >&2
  fi
  echo "$FUNCTION_REGISTRY/$repository:$tag"
}

main "$@"
