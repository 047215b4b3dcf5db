#!/usr/bin/env bash
# Builds the project's images from its Dockerfile and imports them into the
# cluster's containerd, when their inputs changed (`npm run e2e` runs it after
# cluster/up.sh):
#
#   registry.local/cloudbase/runtime-nodejs22:<hash>          target runtime-nodejs22
#   registry.local/cloudbase/cloudbase:<hash>                 target cloudbase (webhook, controller)
#   registry.local/cloudbase/runtime-nodejs22-test-ca:<hash>-<ca>
#       the runtime plus a test CA (NODE_EXTRA_CA_CERTS), for e2e tests that serve https:// sources
#
# The base image is the cluster's own Node.js image. Names and the test TLS
# folder are written to .cluster/images.env. See lib/cloudbase-images.sh.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/cloudbase-images.sh
source "$CLUSTER_DIR/lib/cloudbase-images.sh"

main() {
  local start=$SECONDS
  [[ $EUID -eq 0 ]] || die "run as root: buildah and containerd need it"
  pid_alive containerd || die "the cluster is not up (bash cluster/up.sh)"
  mkdir -p "$CLOUDBASE_IMAGES_DIR"
  # One build at a time: two e2e runs may start together on this machine.
  exec 9>"$CLOUDBASE_IMAGES_DIR/lock"
  flock 9
  build_cloudbase_images
  log "Cloudbase images ready in $((SECONDS - start))s; names in $IMAGES_ENV_FILE"
}

main "$@"
