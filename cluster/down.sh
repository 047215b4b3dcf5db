#!/usr/bin/env bash
# cluster:down: stops every process cluster:up started (by pid), the pods'
# containers and shims, and removes the mounts, cgroups, network namespaces,
# interfaces and iptables rules it made. Harmless when run twice.
# Keeps the PKI, etcd data and caches; `--purge` removes the state folder too.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/network.sh
source "$CLUSTER_DIR/lib/network.sh"
# shellcheck source=lib/components.sh
source "$CLUSTER_DIR/lib/components.sh"

# stop_containers kills the pods' processes and their shims. They belong to
# this cluster's containerd: the init pids are in its state folder, and the
# shims name its socket on their command line.
stop_containers() {
  local f pid
  for f in "$CONTAINERD_STATE"/io.containerd.runtime.v2.task/*/*/init.pid; do
    [[ -f $f ]] || continue
    pid=$(<"$f")
    if [[ -n $pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  for pid in $(shim_pids); do
    stop_pid "$pid"
  done
}

shim_pids() {
  local d
  for d in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | grep -q "^/usr/bin/containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK"; then
      echo "${d#/proc/}"
    fi
  done
}

# unmount_under unmounts every mount point below a folder, deepest first.
unmount_under() {
  local dir=$1 m
  awk -v d="$dir" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

# remove_pod_cgroups removes the kubelet's cgroups in every v1 hierarchy once
# their processes are gone (leaves first).
remove_pod_cgroups() {
  local dir
  for dir in /sys/fs/cgroup/*/kubepods; do
    [[ -d $dir ]] || continue
    find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

main() {
  [[ $EUID -eq 0 ]] || die "run as root"
  local c
  for c in kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do
    stop_component "$c"
  done
  stop_containers
  stop_component containerd
  unmount_under "$CONTAINERD_STATE/"
  unmount_under "$CONTAINERD_ROOT/"
  unmount_under "$STATE_DIR/kubelet"
  unmount_under /run/netns/cni-
  remove_pod_cgroups
  restore_kernel_tunables
  remove_node_network
  rm -f "$REPO_DIR/.cluster/env"
  if [[ ${1:-} == --purge ]]; then
    log "removing state $STATE_DIR"
    rm -rf "$STATE_DIR" "$CONTAINERD_STATE"
  fi
  log "cluster down"
}

main "$@"
