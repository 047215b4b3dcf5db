# shellcheck shell=bash
# The node's network namespace and the veth pair that joins it to the host
# (sourced; needs common.sh). The pod bridge, the CNI state and kube-proxy's
# iptables rules all live inside the namespace and go away with it.

# create_node_network makes the namespace and veth pair, or repairs them after
# a killed run (a half-made pair is removed and made again).
create_node_network() {
  if [[ ! -e /run/netns/$NETNS ]]; then
    log "creating network namespace $NETNS"
    ip netns add "$NETNS"
  fi
  if ! ip link show "$HOST_IF" >/dev/null 2>&1 || ! in_node ip link show "$NODE_IF" >/dev/null 2>&1; then
    ip link del "$HOST_IF" 2>/dev/null || true
    in_node ip link del "$NODE_IF" 2>/dev/null || true
    log "creating veth $HOST_IF ($HOST_IP) <-> $NETNS/$NODE_IF ($NODE_IP)"
    ip link add "$HOST_IF" type veth peer name "$NODE_IF" netns "$NETNS"
  fi
  ip addr replace "$HOST_IP/$LINK_PREFIX" dev "$HOST_IF"
  ip link set "$HOST_IF" up
  in_node ip addr replace "$NODE_IP/$LINK_PREFIX" dev "$NODE_IF"
  in_node ip link set "$NODE_IF" up
  in_node ip link set lo up
  # Services are reached by DNAT in the namespace; a route is needed for the
  # namespace's own connections to be routed before that rewrite happens.
  in_node ip route replace "$SERVICE_CIDR" dev "$NODE_IF"
  # Pods route through the namespace; bridged pod traffic must pass iptables
  # so that kube-proxy's Service rules apply between pods on the one bridge.
  in_node sysctl -qw net.ipv4.ip_forward=1
  in_node sysctl -qw net.bridge.bridge-nf-call-iptables=1
  in_node sysctl -qw net.ipv4.conf.all.route_localnet=1
}

# remove_node_network deletes the namespace (taking the bridge, the pods'
# interfaces and every iptables rule in it along) and the host's veth end.
remove_node_network() {
  local ns
  # Pod namespaces made by the CNI plugins for containerd (cni-<uuid>).
  for ns in $(ip netns list 2>/dev/null | awk '/^cni-/ {print $1}'); do
    ip netns del "$ns" 2>/dev/null || true
  done
  if [[ -e /run/netns/$NETNS ]]; then
    log "removing network namespace $NETNS"
    ip netns del "$NETNS"
  fi
  ip link del "$HOST_IF" 2>/dev/null || true
}

# write_cni_config writes the pod network: a bridge with host-local addresses
# from POD_CIDR and portmap for hostPort.
write_cni_config() {
  local dir=$STATE_DIR/cni/net.d
  mkdir -p "$dir"
  write_if_changed "$dir/10-cloudbase.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "cloudbase",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$POD_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$STATE_DIR/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}
