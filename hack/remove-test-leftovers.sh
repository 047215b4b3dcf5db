#!/usr/bin/env bash
# Undoes what an interrupted `npm run e2e` left on the local cluster: a node a test cordoned (the builds e2e, to
# see a build pod wait for room), and the namespaces each test file makes (testing/cluster.ts testNamespace) and
# removes when it ends, waiting until they are gone: their pods hold requests on the node while they run, and a
# test file's pods would wait for room.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -f .cluster/env ]] || exit 0
set -a
# shellcheck source=/dev/null
. .cluster/env
set +a
# <prefix>-<Date.now() in base 36>-<a random suffix>; install- and scaling- are the names before the e2e- prefix.
mapfile -t stale < <("$KUBECTL" get namespaces -o name |
  sed -n -E 's#^namespace/((e2e-[a-z0-9-]+|install|scaling)-[a-z0-9]{8}-[a-z0-9]{1,3})$#\1#p')
if ((${#stale[@]} > 0)); then
  echo "removing ${#stale[@]} namespaces an earlier test run left: ${stale[*]}"
  "$KUBECTL" delete namespace "${stale[@]}" --ignore-not-found --wait=true --timeout=300s >/dev/null
fi
for node in $("$KUBECTL" get nodes -o jsonpath='{range .items[?(@.spec.unschedulable==true)]}{.metadata.name}{" "}{end}'); do
  echo "uncordoning node $node (a test run cordoned it)"
  "$KUBECTL" uncordon "$node" >/dev/null
done
