#!/usr/bin/env bash
# Builds an image from a Dockerfile with Debian's buildah and imports it into
# the cluster's containerd, so pods can use it with imagePullPolicy IfNotPresent.
#
#   bash cluster/build-image.sh CONTEXT_DIR IMAGE_NAME [DOCKERFILE]
#
# The base images are the locally built ones (registry.local/cloudbase/...),
# loaded into buildah's own storage from their cached tarballs; nothing is
# pulled (--pull=never). RUN steps run under runc with no network.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

BUILDAH=(buildah --root "$STATE_DIR/buildah/root" --runroot /run/cloudbase-buildah --storage-driver vfs)

# load_base_images puts each cached image tarball into buildah's storage once.
load_base_images() {
  local tar name present
  present=$("${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}}')
  for tar in "$IMAGE_DIR"/*.tar; do
    name=$(tar -xOf "$tar" manifest.json | jq -r '.[0].RepoTags[0]')
    grep -qxF "$name" <<<"$present" && continue
    log "loading base image $name into buildah"
    "${BUILDAH[@]}" pull --quiet "docker-archive:$tar" >/dev/null
  done
}

main() {
  local context=${1:?usage: build-image.sh CONTEXT_DIR IMAGE_NAME [DOCKERFILE]}
  local name=${2:?image name, fully qualified (registry.local/...)}
  local dockerfile=${3:-$context/Dockerfile} out
  command -v buildah >/dev/null || {
    log "installing Debian package buildah"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah >/dev/null
  }
  pid_alive containerd || die "the cluster is not up (bash cluster/up.sh)"
  load_base_images
  log "building $name from $dockerfile"
  "${BUILDAH[@]}" build --pull=never --isolation oci --network none -t "$name" -f "$dockerfile" "$context"
  out=$(mktemp -u /tmp/cloudbase-image.XXXXXX.tar)
  "${BUILDAH[@]}" push --quiet "$name" "docker-archive:$out:$name"
  log "importing $name into containerd"
  ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$out" >/dev/null
  rm -f "$out"
}

main "$@"
