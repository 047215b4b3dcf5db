#!/usr/bin/env bash
# cluster:smoke: proves the running cluster end to end, printing evidence:
# node Ready; a pod of a locally built image Running with a pod IP; reachable
# through its ClusterIP Service from inside the node and through a Traefik
# IngressRoute from the host; a path no route matches answers 404; a pod
# reaches the API server through the in-cluster `kubernetes` Service.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

step() { log "CHECK: $*"; }

main() {
  local ip cluster_ip body code
  step "node Ready"
  kubectl_admin wait --for=condition=Ready "node/$NODE_NAME" --timeout=60s
  kubectl_admin get nodes -o wide

  step "pod of a locally built image reaches Running"
  kubectl_admin apply -f "$CLUSTER_DIR/smoke/hello.yaml"
  kubectl_admin -n cloudbase-smoke rollout status deployment/hello --timeout=120s
  kubectl_admin -n cloudbase-smoke get pods -o wide
  ip=$(kubectl_admin -n cloudbase-smoke get pods -l app=hello -o jsonpath='{.items[0].status.podIP}')
  [[ -n $ip ]] || die "pod has no IP"

  step "ClusterIP Service from inside the node's namespace"
  cluster_ip=$(kubectl_admin -n cloudbase-smoke get svc hello -o jsonpath='{.spec.clusterIP}')
  body=$(in_node curl -sf --max-time 5 "http://$cluster_ip/via-clusterip")
  echo "curl http://$cluster_ip/via-clusterip -> $body"

  step "Traefik IngressRoute from the host"
  for _ in $(seq 30); do
    body=$(curl -sf --max-time 5 "http://$NODE_IP:$TRAEFIK_NODE_PORT/smoke/hello") && break
    sleep 1
  done
  echo "curl http://$NODE_IP:$TRAEFIK_NODE_PORT/smoke/hello -> ${body:?no answer through Traefik}"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$NODE_IP:$TRAEFIK_NODE_PORT/no-such-route")
  echo "curl http://$NODE_IP:$TRAEFIK_NODE_PORT/no-such-route -> $code"
  [[ $code == 404 ]] || die "expected 404 for an unmatched path, got $code"

  step "a pod reaches the API server through the kubernetes Service"
  kubectl_admin -n cloudbase-smoke exec deploy/hello -- node -e '
    const fs = require("fs"), https = require("https");
    const sa = "/var/run/secrets/kubernetes.io/serviceaccount";
    https.get({host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT,
      path: "/version", ca: fs.readFileSync(sa + "/ca.crt"),
      headers: {Authorization: "Bearer " + fs.readFileSync(sa + "/token")}},
      (r) => { let b = ""; r.on("data", (d) => b += d); r.on("end", () => console.log(r.statusCode, JSON.parse(b).gitVersion)); })
      .on("error", (e) => { console.error(e.message); process.exit(1); });'
  log "all checks passed"
}

main "$@"
