#!/usr/bin/env bash
# cluster:up: brings up a single-node Kubernetes in the network namespace
# "cloudbase", built from upstream sources, with Traefik serving on the node's
# address. Idempotent: what already runs is kept, what is missing is built or
# started, and what a killed earlier run left behind is repaired.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/build.sh
source "$CLUSTER_DIR/lib/build.sh"
# shellcheck source=lib/images.sh
source "$CLUSTER_DIR/lib/images.sh"
# shellcheck source=lib/pki.sh
source "$CLUSTER_DIR/lib/pki.sh"
# shellcheck source=lib/network.sh
source "$CLUSTER_DIR/lib/network.sh"
# shellcheck source=lib/components.sh
source "$CLUSTER_DIR/lib/components.sh"

# ensure_packages installs the node's Debian packages when one is missing.
ensure_packages() {
  local missing=() tool
  for tool in go gcc npm openssl curl nsenter; do
    command -v "$tool" >/dev/null || die "$tool is needed and is not on this machine"
  done
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v conntrack >/dev/null || missing+=(conntrack)
  [[ -x /bin/busybox ]] || missing+=(busybox-static)
  command -v jq >/dev/null || missing+=(jq)
  ((${#missing[@]} == 0)) && return 0
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# node_ready is true once the node reports Ready in a status posted by the
# kubelet started now: the stored status of an earlier run may still say Ready.
node_ready() {
  local ready since
  since=$(cat "$STATE_DIR/kubelet.started" 2>/dev/null || echo 0)
  ready=$(kubectl_admin get node "$NODE_NAME" \
    -o jsonpath='{range .status.conditions[?(@.type=="Ready")]}{.status} {.lastHeartbeatTime}{end}' 2>/dev/null)
  [[ ${ready% *} == True && ! ${ready#* } < "$since" ]]
}

# install_traefik applies Traefik's CRDs (from its Go module) and our manifests.
install_traefik() {
  grep -q "image: $TRAEFIK_IMAGE\$" "$REPO_DIR/traefik/traefik.yaml" ||
    die "traefik/traefik.yaml must use image $TRAEFIK_IMAGE (lib/common.sh)"
  log "installing Traefik CRDs (from the Traefik $TRAEFIK_VERSION module) and deployment"
  traefik_crds | kubectl_admin apply --server-side -f - >/dev/null
  kubectl_admin wait --for=condition=Established --timeout=60s crd/ingressroutes.traefik.io >/dev/null
  # The Secret its TLSStore names exists before Traefik starts, so it never runs without it.
  kubectl_admin create namespace traefik --dry-run=client -o yaml | kubectl_admin apply -f - >/dev/null
  kubectl_admin -n traefik create secret tls traefik-default-certificate \
    --cert="$PKI_DIR/traefik-default.crt" --key="$PKI_DIR/traefik-default.key" \
    --dry-run=client -o yaml | kubectl_admin apply -f - >/dev/null
  kubectl_admin apply -f "$REPO_DIR/traefik/traefik.yaml" >/dev/null
  log "waiting for Traefik's 2 replicas"
  kubectl_admin -n traefik rollout status deployment/traefik --timeout=180s
}

# install_addons applies what every real cluster has and this one builds too: CoreDNS (cluster DNS) and
# a default storage class (local-path-provisioner). Their manifests name the images lib/common.sh builds.
install_addons() {
  local manifest image
  for manifest in "coredns/coredns.yaml=$COREDNS_IMAGE" "local-path-provisioner/local-path.yaml=$LOCAL_PATH_IMAGE" \
    "local-path-provisioner/local-path.yaml=$BUSYBOX_IMAGE"; do
    image=${manifest#*=}
    grep -q "$image" "$CLUSTER_DIR/${manifest%%=*}" || die "cluster/${manifest%%=*} must use image $image (lib/common.sh)"
  done
  grep -q "clusterIP: $CLUSTER_DNS_IP\$" "$CLUSTER_DIR/coredns/coredns.yaml" ||
    die "cluster/coredns/coredns.yaml must give kube-dns the address $CLUSTER_DNS_IP (lib/common.sh)"
  log "installing CoreDNS $COREDNS_VERSION and local-path-provisioner $LOCAL_PATH_VERSION"
  mkdir -p "$STATE_DIR/local-path"
  kubectl_admin apply -f "$CLUSTER_DIR/coredns/coredns.yaml" -f "$CLUSTER_DIR/local-path-provisioner/local-path.yaml" >/dev/null
  kubectl_admin -n kube-system rollout status deployment/coredns --timeout=120s
  kubectl_admin -n local-path-storage rollout status deployment/local-path-provisioner --timeout=120s
}

# traefik_serving is true once the web entrypoint answers (404 for no route).
traefik_serving() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$NODE_IP:$TRAEFIK_NODE_PORT/") == 404 ]]
}

write_env_file() {
  mkdir -p "$REPO_DIR/.cluster"
  # The folder ignores itself, so git never sees the machine-specific paths.
  echo '*' >"$REPO_DIR/.cluster/.gitignore"
  cat >"$REPO_DIR/.cluster/env" <<EOF
KUBECONFIG=$KUBECONFIG_ADMIN
TRAEFIK_URL=http://$NODE_IP:$TRAEFIK_NODE_PORT
CLUSTER_NODE_IP=$NODE_IP
CLUSTER_HOST_IP=$HOST_IP
CLUSTER_NETNS=$NETNS
KUBECTL=$K8S_BIN/kubectl
WEBHOOK_CLIENT_CA=$WEBHOOK_CLIENT_CA
NATS_SERVER=$NATS_BIN/nats-server
EVENTS_URL=nats://$NODE_IP:$EVENTS_NODE_PORT
EOF
  log "wrote $REPO_DIR/.cluster/env"
}

# reset_if_service_range_changed purges the state of a cluster made with another
# Service range: the API server fixes its default ServiceCIDR object at first
# start and never follows the flag afterwards, so the old range would stay.
# https://kubernetes.io/docs/tasks/network/extend-service-ip-ranges/
reset_if_service_range_changed() {
  local recorded
  [[ -d $STATE_DIR/etcd ]] || return 0
  recorded=$(cat "$STATE_DIR/service-cidr" 2>/dev/null || echo "10.205.0.0/24")
  [[ $recorded == "$SERVICE_CIDR" ]] && return 0
  log "the Service range changed from $recorded to $SERVICE_CIDR: removing the old cluster's state"
  bash "$CLUSTER_DIR/down.sh" --purge
}

# apiserver_command prints the command line start_apiserver (lib/components.sh)
# runs, one argument a line, without running it: start_component and wait_for
# are redefined in this subshell only.
apiserver_command() (
  # shellcheck disable=SC2317 # called by start_apiserver
  start_component() {
    shift
    printf '%s\n' "$@"
  }
  # shellcheck disable=SC2317
  wait_for() { :; }
  start_apiserver
)

# restart_apiserver_if_changed stops a running kube-apiserver that was started
# with other flags than start_apiserver passes now, or before a file it reads
# only at start changed (the admission configuration and its kubeconfig,
# lib/pki.sh); start_apiserver then starts it as configured. start_component
# alone keeps whatever runs, so a cluster started before a change would never
# pick it up.
restart_apiserver_if_changed() {
  pid_alive kube-apiserver || return 0
  local pidfile=$PID_DIR/kube-apiserver.pid file reason=""
  [[ $(tr '\0' '\n' <"/proc/$(<"$pidfile")/cmdline") == "$(apiserver_command)" ]] ||
    reason="its flags changed"
  for file in "$ADMISSION_CONFIG" "$WEBHOOK_CLIENT_KUBECONFIG"; do
    if [[ $file -nt $pidfile ]]; then reason="$file changed"; fi
  done
  [[ -z $reason ]] && return 0
  log "restarting kube-apiserver: $reason since it started"
  stop_component kube-apiserver
}

main() {
  local start=$SECONDS
  [[ $EUID -eq 0 ]] || die "run as root: the cluster needs network namespaces, mounts and cgroups"
  ensure_packages
  build_all
  build_images
  reset_if_service_range_changed
  mkdir -p "$STATE_DIR" "$PID_DIR" "$LOG_DIR"
  echo "$SERVICE_CIDR" >"$STATE_DIR/service-cidr"
  make_pki
  create_node_network
  write_cni_config
  start_containerd
  import_images
  start_etcd
  restart_apiserver_if_changed
  start_apiserver
  start_controller_manager
  start_scheduler
  start_kubelet
  start_kube_proxy
  wait_for "node $NODE_NAME Ready" 120 node_ready
  install_addons
  install_traefik
  wait_for "Traefik at http://$NODE_IP:$TRAEFIK_NODE_PORT" 60 traefik_serving
  write_env_file
  log "cluster up in $((SECONDS - start))s; use: export KUBECONFIG=$KUBECONFIG_ADMIN"
}

main "$@"
