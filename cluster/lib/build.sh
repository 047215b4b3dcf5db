# shellcheck shell=bash
# Builds the cluster's binaries from their Go modules (sourced; needs common.sh).
# Outputs go to $CACHE_DIR/<component>-<version>/bin; a complete folder is
# never rebuilt. Builds run at low priority with two jobs: the machine is shared.

GO_BUILD=(nice -n 19 go build -v -p 2 -trimpath)

# go_build runs "go build -v ARGS" for PACKAGES (the last argument) and turns
# its package-per-line output into a progress line every 100 packages; error
# lines pass through unchanged.
go_build() {
  local total
  total=$(go list -deps "${@: -1}" | wc -l)
  "${GO_BUILD[@]}" "$@" 2>&1 | awk -v total="$total" '
    /^#|: / { print; next }
    { if (++n % 100 == 0) printf "%s [cluster]   ... %d of at most %d packages compiled\n", strftime("%H:%M:%S"), n, total; fflush() }'
}

# version_ldflags stamps the release into both version packages, as upstream's
# build does, so `kubectl version` and the node report v1.35.4.
version_ldflags() {
  local p out="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    out+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=${K8S_VERSION:1:1}"
    out+=" -X $p.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION") -X $p.gitTreeState=clean"
  done
  echo "$out"
}

# timed runs a build step and records how long it took in $CACHE_DIR/build-times.log.
timed() {
  local what=$1 start=$SECONDS
  shift
  "$@"
  log "$what built in $((SECONDS - start))s"
  echo "$(date -u +%FT%TZ) $what $((SECONDS - start))s" >>"$CACHE_DIR/build-times.log"
}

build_kubernetes() {
  local b missing=0
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
    [[ -x $K8S_BIN/$b ]] || missing=1
  done
  ((missing)) || return 0
  log "building Kubernetes $K8S_VERSION (6 binaries; a first build took 25 min on 2 shared cores)"
  mkdir -p "$K8S_BIN"
  (cd "$CLUSTER_DIR/kubernetes" && timed "kubernetes-$K8S_VERSION" \
    go_build -ldflags "$(version_ldflags)" -o "$K8S_BIN/" ./cmd/...)
}

build_etcd() {
  [[ -x $ETCD_BIN/etcd ]] && return 0
  log "building etcd $ETCD_VERSION"
  mkdir -p "$ETCD_BIN"
  (cd "$CLUSTER_DIR/etcd" && timed "etcd-$ETCD_VERSION" go_build -ldflags "-s -w" -o "$ETCD_BIN/etcd" ./cmd/etcd)
}

build_traefik() {
  [[ -x $TRAEFIK_BIN/traefik ]] && return 0
  log "building Traefik $TRAEFIK_VERSION"
  mkdir -p "$TRAEFIK_BIN"
  (cd "$CLUSTER_DIR/traefik" && CGO_ENABLED=0 timed "traefik-$TRAEFIK_VERSION" go_build \
    -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
    -o "$TRAEFIK_BIN/traefik" github.com/traefik/traefik/v3/cmd/traefik)
}

# traefik_crds prints Traefik's CRD definitions from its module in the Go
# module cache (downloaded on demand), so no copy of them is kept in the repo.
traefik_crds() {
  local dir
  dir=$(cd "$CLUSTER_DIR/traefik" && go list -m -f '{{.Dir}}' github.com/traefik/traefik/v3)
  cat "$dir/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"
}

# build_go_binary builds one static binary NAME from PACKAGE in the wrapper module DIR (cluster/DIR) into
# BIN, unless it is there: build_go_binary NAME VERSION DIR BIN PACKAGE [LDFLAGS].
build_go_binary() {
  local name=$1 version=$2 dir=$3 bin=$4 package=$5 ldflags=${6:-}
  [[ -x $bin/$name ]] && return 0
  log "building $name $version"
  mkdir -p "$bin"
  (cd "$CLUSTER_DIR/$dir" && CGO_ENABLED=0 timed "$name-$version" go_build \
    -ldflags "-s -w $ldflags" -o "$bin/$name" "$package")
}

build_all() {
  mkdir -p "$CACHE_DIR"
  build_etcd
  build_kubernetes
  build_traefik
  build_go_binary coredns "$COREDNS_VERSION" coredns "$COREDNS_BIN" ./cmd/coredns \
    "-X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"
  build_go_binary registry "$REGISTRY_VERSION" registry "$REGISTRY_BIN" ./cmd/registry \
    "-X github.com/distribution/distribution/v3/version.version=$REGISTRY_VERSION"
  build_go_binary crane "$CRANE_VERSION" crane "$CRANE_BIN" github.com/google/go-containerregistry/cmd/crane \
    "-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=$CRANE_VERSION"
  build_go_binary local-path-provisioner "$LOCAL_PATH_VERSION" local-path-provisioner "$LOCAL_PATH_BIN" \
    github.com/rancher/local-path-provisioner "-X main.VERSION=$LOCAL_PATH_VERSION"
  build_go_binary nats-server "$NATS_VERSION" nats "$NATS_BIN" github.com/nats-io/nats-server/v2 \
    "-X github.com/nats-io/nats-server/v2/server.serverVersion=$NATS_VERSION"
}
