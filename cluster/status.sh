#!/usr/bin/env bash
# cluster:status: one line per component: running or not, and its health.
set -uo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/components.sh
source "$CLUSTER_DIR/lib/components.sh"

# health prints a component's own health answer, checked inside the node.
health() {
  case $1 in
    containerd) in_node ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1 && echo ok ;;
    etcd) in_node curl -sf --max-time 2 http://127.0.0.1:2379/health | jq -r 'if .health == "true" then "ok" else . end' ;;
    kube-apiserver) kubectl_admin get --raw /readyz --request-timeout=2s 2>/dev/null ;;
    kube-controller-manager) in_node curl -sk --max-time 2 https://127.0.0.1:10257/healthz ;;
    kube-scheduler) in_node curl -sk --max-time 2 https://127.0.0.1:10259/healthz ;;
    kubelet) in_node curl -s --max-time 2 http://127.0.0.1:10248/healthz ;;
    kube-proxy) in_node curl -s --max-time 2 -o /dev/null -w 'http %{http_code}' http://127.0.0.1:10256/healthz ;;
  esac
}

printf '%-24s %-8s %-8s %s\n' COMPONENT STATE PID HEALTH
for c in "${COMPONENTS[@]}"; do
  if pid_alive "$c"; then
    printf '%-24s %-8s %-8s %s\n' "$c" running "$(<"$PID_DIR/$c.pid")" "$(health "$c" 2>/dev/null || true)"
  else
    printf '%-24s %-8s %-8s %s\n' "$c" stopped - -
  fi
done
if pid_alive kube-apiserver; then
  ready=$(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)
  printf '%-24s %-8s %-8s %s\n' "node/$NODE_NAME" "${ready:+Ready=$ready}" - "$NODE_IP"
  traefik=$(kubectl_admin -n traefik get deploy traefik -o jsonpath='{.status.readyReplicas}/{.spec.replicas}' 2>/dev/null)
  code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "http://$NODE_IP:$TRAEFIK_NODE_PORT/")
  traefik=${traefik:-absent}
  printf '%-24s %-8s %-8s %s\n' traefik "${traefik/#\//0/}" - "http://$NODE_IP:$TRAEFIK_NODE_PORT/ -> $code"
  dns=$(kubectl_admin -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}/{.spec.replicas}' 2>/dev/null)
  printf '%-24s %-8s %-8s %s\n' coredns "${dns:-absent}" - "$CLUSTER_DNS_IP:53"
  storage=$(kubectl_admin -n local-path-storage get deploy local-path-provisioner -o jsonpath='{.status.readyReplicas}/{.spec.replicas}' 2>/dev/null)
  printf '%-24s %-8s %-8s %s\n' local-path-provisioner "${storage:-absent}" - "storage class local-path"
fi
