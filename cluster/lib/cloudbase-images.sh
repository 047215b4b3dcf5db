# shellcheck shell=bash
# Builds Cloudbase's own images from the project's Dockerfile with buildah and
# imports them into the cluster's containerd (sourced by
# build-cloudbase-images.sh; needs common.sh).
#
# Tags are a hash of the build's inputs (Dockerfile, .dockerignore, package
# files, tsconfig, the sources without tests and test helpers), so an image is rebuilt
# only when an input changed, and a pod never runs a stale image under an old
# name. buildah keeps its layers (--layers), so a change under src/ reuses the
# `npm ci` layer and redoes only the compile and the copies.
#
# Why the build has the host's network: the Dockerfile's build stage runs
# `npm ci`, which needs the npm registry. Doing that step on the host instead
# (copying a node_modules in) would make the Dockerfile different from the one
# users build, and need a second, host-only build path. The other RUN steps
# make no network calls; the final images get no network at all.
#
# Why overlay and not build-image.sh's vfs: vfs copies the whole root at every
# step; the runtime image took 7.6 min with vfs and 2.7 min with overlay (no
# cache; NOTES.md). Its storage is kept in the cache folder, across `down.sh`.

CLOUDBASE_IMAGE_REPO=registry.local/cloudbase
CLOUDBASE_IMAGES_DIR=$CACHE_DIR/cloudbase-images
TEST_TLS_DIR=$CLOUDBASE_IMAGES_DIR/test-tls
IMAGES_ENV_FILE=$REPO_DIR/.cluster/images.env
BUILDAH_OVERLAY=(buildah --root "$CLOUDBASE_IMAGES_DIR/buildah" --runroot /run/cloudbase-buildah-overlay
  --storage-driver overlay)
# Images of this many most recent input hashes are kept in containerd and buildah.
KEEP_BUILDS=3

ctr_k8s() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }

# inputs_hash prints 12 hex digits over the content and names of every file
# the Dockerfile's build reads.
inputs_hash() {
  (
    cd "$REPO_DIR" || exit 1
    # The sources .dockerignore leaves in: no tests, test data or test helpers.
    find Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json src \
      \( -path src/e2e -o -path src/testing -o -path src/bench -o -name testdata \) -prune \
      -o -type f ! -name '*.test.ts' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12
  )
}

ensure_buildah() {
  command -v buildah >/dev/null && return 0
  log "installing Debian package buildah"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah >/dev/null
}

# load_node_image puts the cluster's Node.js image (the Dockerfile's base) into
# buildah's storage from its cached tarball, once.
load_node_image() {
  "${BUILDAH_OVERLAY[@]}" inspect --type image "$NODE_IMAGE" >/dev/null 2>&1 && return 0
  log "loading base image $NODE_IMAGE into buildah"
  "${BUILDAH_OVERLAY[@]}" pull --quiet "docker-archive:$IMAGE_DIR/node-$NODE_VERSION.tar" >/dev/null
}

# import_into_containerd copies IMAGE from buildah's storage into containerd.
import_into_containerd() {
  local image=$1 out
  out=$(mktemp -u /tmp/cloudbase-image.XXXXXX.tar)
  "${BUILDAH_OVERLAY[@]}" push --quiet "$image" "docker-archive:$out:$image"
  log "importing $image into containerd"
  ctr_k8s images import "$out" >/dev/null
  rm -f "$out"
}

# ensure_image IMAGE BUILD_FUNCTION [ARGS...]: containerd has IMAGE afterwards;
# it is built only when buildah does not have it either.
ensure_image() {
  local image=$1 start=$SECONDS
  shift
  if grep -qxF "$image" <<<"$(ctr_k8s images ls -q)"; then
    log "$image is up to date"
    return 0
  fi
  if ! "${BUILDAH_OVERLAY[@]}" inspect --type image "$image" >/dev/null 2>&1; then
    log "building $image"
    "$@"
    log "$image built in $((SECONDS - start))s"
    echo "$(date -u +%FT%TZ) $image $((SECONDS - start))s" >>"$CACHE_DIR/build-times.log"
  fi
  import_into_containerd "$image"
}

# build_target TARGET IMAGE builds one target of the project's Dockerfile.
build_target() {
  local target=$1 image=$2
  "${BUILDAH_OVERLAY[@]}" build --quiet --layers --pull=never --isolation oci --network host \
    --target "$target" \
    --build-arg "NODE_BUILD_IMAGE=$NODE_IMAGE" \
    --build-arg "NODE20_IMAGE=$NODE_IMAGE" \
    --build-arg "NODE22_IMAGE=$NODE_IMAGE" \
    --build-arg "NODE24_IMAGE=$NODE_IMAGE" \
    --build-arg NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    -t "$image" -f "$REPO_DIR/Dockerfile" "$REPO_DIR" >/dev/null
}

# make_test_tls writes, once, a serving certificate for the host's address on
# the cluster link (tls.crt, tls.key) and the CA that signed it (ca.crt). The
# CA's key is thrown away once the certificate is signed: it can sign nothing
# else. Remade when the certificate has less than 30 days left.
make_test_tls() {
  local dir=$TEST_TLS_DIR tmp
  if [[ -f $dir/tls.crt ]] && openssl x509 -checkend $((30 * 86400)) -noout -in "$dir/tls.crt" >/dev/null; then
    return 0
  fi
  log "making the e2e tests' TLS certificate for $HOST_IP"
  tmp=$(mktemp -d)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=cloudbase e2e test CA" -keyout "$tmp/ca.key" -out "$tmp/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$HOST_IP" \
    -keyout "$tmp/tls.key" -out "$tmp/tls.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
    "$HOST_IP" >"$tmp/ext"
  openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 825 -extfile "$tmp/ext" -out "$tmp/tls.crt" 2>/dev/null
  mkdir -p "$dir"
  install -m 0644 "$tmp/ca.crt" "$tmp/tls.crt" "$dir/"
  install -m 0600 "$tmp/tls.key" "$dir/"
  rm -rf "$tmp"
}

# build_test_ca_image BASE IMAGE: BASE plus the test CA, trusted by Node.js
# through NODE_EXTRA_CA_CERTS, for the e2e test's https:// sources.
build_test_ca_image() {
  local base=$1 image=$2 context
  context=$(mktemp -d)
  cp "$TEST_TLS_DIR/ca.crt" "$context/"
  printf 'FROM %s\nCOPY ca.crt /etc/cloudbase-test/ca.crt\nENV NODE_EXTRA_CA_CERTS=/etc/cloudbase-test/ca.crt\n' \
    "$base" >"$context/Dockerfile"
  "${BUILDAH_OVERLAY[@]}" build --quiet --pull=never --isolation oci --network none -t "$image" "$context" >/dev/null
  rm -rf "$context"
}

# forget_old_builds keeps the images of the last $KEEP_BUILDS hashes in
# containerd and buildah and removes older ones (unused layers go with them).
forget_old_builds() {
  local history=$CLOUDBASE_IMAGES_DIR/history keep image tag
  local pattern="^$CLOUDBASE_IMAGE_REPO/(cloudbase|runtime-nodejs22|runtime-nodejs22-test-ca):[0-9a-f]{12}(-[0-9a-f]{12})?\$"
  grep -qxF "$1" "$history" 2>/dev/null || echo "$1" >>"$history"
  keep=$(tail -n "$KEEP_BUILDS" "$history")
  for image in $(ctr_k8s images ls -q | grep -E "$pattern"); do
    tag=${image##*:}
    grep -qxF "${tag:0:12}" <<<"$keep" && continue
    ctr_k8s images rm "$image" >/dev/null
  done
  for image in $("${BUILDAH_OVERLAY[@]}" images --format '{{.Name}}:{{.Tag}}' | grep -E "$pattern"); do
    tag=${image##*:}
    grep -qxF "${tag:0:12}" <<<"$keep" && continue
    "${BUILDAH_OVERLAY[@]}" rmi "$image" >/dev/null 2>&1 || true
  done
}

write_images_env() {
  mkdir -p "$(dirname "$IMAGES_ENV_FILE")"
  cat >"$IMAGES_ENV_FILE" <<EOF
RUNTIME_NODEJS22_IMAGE=$1
CLOUDBASE_IMAGE=$2
RUNTIME_NODEJS22_TEST_CA_IMAGE=$3
TEST_TLS_DIR=$TEST_TLS_DIR
EOF
}

build_cloudbase_images() {
  local hash runtime cloudbase test_ca
  mkdir -p "$CLOUDBASE_IMAGES_DIR"
  ensure_buildah
  load_node_image
  hash=$(inputs_hash)
  runtime=$CLOUDBASE_IMAGE_REPO/runtime-nodejs22:$hash
  cloudbase=$CLOUDBASE_IMAGE_REPO/cloudbase:$hash
  ensure_image "$runtime" build_target runtime-nodejs22 "$runtime"
  ensure_image "$cloudbase" build_target cloudbase "$cloudbase"
  make_test_tls
  # Tagged by the runtime's inputs and the CA: a new CA (after renewal) is a new image.
  test_ca=$CLOUDBASE_IMAGE_REPO/runtime-nodejs22-test-ca:$hash-$(sha256sum "$TEST_TLS_DIR/ca.crt" | cut -c1-12)
  ensure_image "$test_ca" build_test_ca_image "$runtime" "$test_ca"
  forget_old_builds "$hash"
  write_images_env "$runtime" "$cloudbase" "$test_ca"
}
