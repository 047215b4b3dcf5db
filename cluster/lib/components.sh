# shellcheck shell=bash
# Starting and stopping the node's processes (sourced; needs common.sh).
# Every process runs in the node's network namespace, detached, with its pid
# in $PID_DIR/<name>.pid and its output in $LOG_DIR/<name>.log.

# shellcheck disable=SC2034 # read by status.sh
COMPONENTS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

# start_component runs "$@" in the node namespace unless NAME already runs.
start_component() {
  local name=$1
  shift
  if pid_alive "$name"; then
    log "$name already running (pid $(<"$PID_DIR/$name.pid"))"
    return 0
  fi
  mkdir -p "$PID_DIR" "$LOG_DIR"
  log "starting $name (log: $LOG_DIR/$name.log)"
  # setsid detaches it from this script's session; nsenter and setsid exec in
  # place, so $! is the component's own pid.
  setsid nsenter --net="/run/netns/$NETNS" -- "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$PID_DIR/$name.pid"
}

# stop_pid sends TERM, waits up to 15 s, then KILL.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 30; i++)); do
    [[ -d /proc/$pid ]] || return 0
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_component() {
  local name=$1
  if pid_alive "$name"; then
    log "stopping $name (pid $(<"$PID_DIR/$name.pid"))"
    stop_pid "$(<"$PID_DIR/$name.pid")"
  fi
  rm -f "$PID_DIR/$name.pid"
}

write_containerd_config() {
  write_if_changed "$STATE_DIR/containerd.toml" <<EOF
version = 2
root = "$CONTAINERD_ROOT"
state = "$CONTAINERD_STATE"

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  disable_apparmor = true
  # This machine withholds CAP_SYS_RESOURCE even from root, so no process may
  # lower its oom_score_adj (runc failed "failed to update
  # /proc/self/oom_score_adj: Permission denied" for the sandbox's -998).
  # Clamp every container's value to containerd's own instead.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE_DIR/cni/net.d"
  # Where each registry is, one hosts.toml a registry (write_registry_hosts).
  # https://github.com/containerd/containerd/blob/v1.6.20/docs/hosts.md
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$CONTAINERD_HOSTS_DIR"
EOF
}

# write_registry_hosts tells containerd where the two registries its images name are:
# - registry.local, the cluster's own images, only ever imported: any pull goes to an address where
#   nothing listens and fails fast instead of reaching out;
# - Cloudbase's registry, from which function images are pulled: its NodePort on the node's address,
#   plain HTTP (the local cluster only; a real cluster's registry has TLS).
# containerd reads these files at each pull: no restart.
write_registry_hosts() {
  mkdir -p "$CONTAINERD_HOSTS_DIR/registry.local" "$CONTAINERD_HOSTS_DIR/$FUNCTION_REGISTRY"
  write_if_changed "$CONTAINERD_HOSTS_DIR/registry.local/hosts.toml" <<EOF
server = "http://127.0.0.1:1"
[host."http://127.0.0.1:1"]
  capabilities = ["pull", "resolve"]
EOF
  write_if_changed "$CONTAINERD_HOSTS_DIR/$FUNCTION_REGISTRY/hosts.toml" <<EOF
server = "http://$NODE_IP:$FUNCTION_REGISTRY_NODE_PORT"
[host."http://$NODE_IP:$FUNCTION_REGISTRY_NODE_PORT"]
  capabilities = ["pull", "resolve"]
EOF
}

# restart_if_changed stops a running component started before one of the files it reads only at start
# changed, so that the start that follows picks the change up.
restart_if_changed() {
  local name=$1 file
  shift
  pid_alive "$name" || return 0
  for file in "$@"; do
    if [[ $file -nt $PID_DIR/$name.pid ]]; then
      log "restarting $name: $file changed since it started"
      stop_component "$name"
      return 0
    fi
  done
}

start_containerd() {
  write_containerd_config
  write_registry_hosts
  restart_if_changed containerd "$STATE_DIR/containerd.toml"
  mkdir -p "$CONTAINERD_ROOT" "$CONTAINERD_STATE"
  start_component containerd containerd --config "$STATE_DIR/containerd.toml"
  wait_for containerd 30 ctr --address "$CONTAINERD_SOCK" version
}

start_etcd() {
  mkdir -p "$STATE_DIR/etcd"
  chmod 700 "$STATE_DIR/etcd"
  start_component etcd "$ETCD_BIN/etcd" --name "$NODE_NAME" --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$NODE_NAME=http://127.0.0.1:2380" --log-level warn
  wait_for etcd 30 in_node curl -sf http://127.0.0.1:2379/health
}

start_apiserver() {
  start_component kube-apiserver "$K8S_BIN/kube-apiserver" \
    --advertise-address="$NODE_IP" --secure-port=6443 \
    --etcd-servers=http://127.0.0.1:2379 \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --tls-cert-file="$PKI_DIR/apiserver.crt" --tls-private-key-file="$PKI_DIR/apiserver.key" \
    --client-ca-file="$PKI_DIR/ca.crt" \
    --kubelet-client-certificate="$PKI_DIR/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI_DIR/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-key-file="$PKI_DIR/sa.pub" \
    --service-account-signing-key-file="$PKI_DIR/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --requestheader-client-ca-file="$PKI_DIR/ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI_DIR/front-proxy-client.crt" \
    --proxy-client-key-file="$PKI_DIR/front-proxy-client.key" \
    --authorization-mode=Node,RBAC --allow-privileged=true --profiling=false \
    --admission-control-config-file="$ADMISSION_CONFIG"
  wait_for kube-apiserver 90 kubectl_admin get --raw /readyz
}

# --endpointslice-updates-batch-period: a function pod's IP and its readiness reach the API a few ms
# apart; batched, its EndpointSlice changes once, so Traefik (which paces its rebuilds, see traefik/) routes
# it at once instead of after its throttle. bench:deploy: ready to first 200 went from 0.15-0.7 s to 0.2-0.36 s.
# https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/
start_controller_manager() {
  local kc=$STATE_DIR/controller-manager.kubeconfig
  start_component kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI_DIR/sa.key" --root-ca-file="$PKI_DIR/ca.crt" \
    --cluster-signing-cert-file="$PKI_DIR/ca.crt" --cluster-signing-key-file="$PKI_DIR/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false \
    --endpointslice-updates-batch-period=150ms
}

start_scheduler() {
  local kc=$STATE_DIR/scheduler.kubeconfig
  start_component kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false
}

write_kubelet_config() {
  write_if_changed "$STATE_DIR/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# This machine mounts cgroup v1 and has no systemd: cgroupfs, and v1 allowed
# (https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/).
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI_DIR/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI_DIR/kubelet-serving.crt
tlsPrivateKeyFile: $PKI_DIR/kubelet-serving.key
clusterDomain: $CLUSTER_DOMAIN
clusterDNS: [$CLUSTER_DNS_IP]
resolvConf: ""
healthzBindAddress: 127.0.0.1
# The disk is shared with other work: evict only when it is really full.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
EOF
}

# The kubelet sets these host-wide kernel settings at start (its
# KernelTunableModify behaviour); their prior values are saved once so that
# cluster:down puts them back.
KERNEL_TUNABLES=(vm.overcommit_memory kernel.panic kernel.panic_on_oops)

save_kernel_tunables() {
  [[ -f $STATE_DIR/kernel-tunables.saved ]] && return 0
  sysctl "${KERNEL_TUNABLES[@]}" | sed 's/ = /=/' >"$STATE_DIR/kernel-tunables.saved"
}

restore_kernel_tunables() {
  [[ -f $STATE_DIR/kernel-tunables.saved ]] || return 0
  log "restoring kernel settings: $(tr '\n' ' ' <"$STATE_DIR/kernel-tunables.saved")"
  sysctl -q -p "$STATE_DIR/kernel-tunables.saved" >/dev/null
  rm -f "$STATE_DIR/kernel-tunables.saved"
}

start_kubelet() {
  write_kubelet_config
  restart_if_changed kubelet "$STATE_DIR/kubelet-config.yaml"
  save_kernel_tunables
  mkdir -p "$STATE_DIR/kubelet"
  pid_alive kubelet || date -u +%FT%TZ >"$STATE_DIR/kubelet.started"
  start_component kubelet "$K8S_BIN/kubelet" \
    --config="$STATE_DIR/kubelet-config.yaml" --kubeconfig="$STATE_DIR/kubelet.kubeconfig" \
    --root-dir="$STATE_DIR/kubelet" --node-ip="$NODE_IP" --hostname-override="$NODE_NAME"
}

write_kube_proxy_config() {
  write_if_changed "$STATE_DIR/kube-proxy-config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $STATE_DIR/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
nodePortAddresses: ["$NODE_IP/32"]
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
# Leave the kernel's conntrack settings alone: they are shared with the host.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

start_kube_proxy() {
  write_kube_proxy_config
  start_component kube-proxy "$K8S_BIN/kube-proxy" --config="$STATE_DIR/kube-proxy-config.yaml"
}
