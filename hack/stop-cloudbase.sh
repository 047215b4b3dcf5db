#!/usr/bin/env bash
# Stops a Cloudbase that an earlier hack/up.sh ran on the host and removes the webhook registrations that point at
# it, so the cluster no longer calls a webhook that is gone (failurePolicy Fail would refuse every function).
# `npm run e2e` runs it first: the end-to-end tests need the cluster to themselves.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PID_FILE=.cluster/cloudbase/cloudbase.pid
if [[ -f $PID_FILE ]]; then
  pid=$(<"$PID_FILE")
  if [[ -n $pid && -d /proc/$pid ]] && grep -qa 'controller' "/proc/$pid/cmdline"; then
    echo "stopping Cloudbase on the host (pid $pid)"
    kill "$pid"
    for _ in $(seq 50); do [[ -d /proc/$pid ]] || break; sleep 0.2; done
  fi
  rm -f "$PID_FILE"
fi
if [[ -f .cluster/env ]]; then
  set -a
  # shellcheck source=/dev/null
  . .cluster/env
  set +a
  # Only registrations of a host-mode Cloudbase (an earlier `npm run up`): a url, not a Service.
  for kind in mutatingwebhookconfiguration validatingwebhookconfiguration; do
    url=$("$KUBECTL" get "$kind" cloudbase -o jsonpath='{.webhooks[0].clientConfig.url}' 2>/dev/null || true)
    if [[ -n $url ]]; then
      echo "removing $kind cloudbase (pointed at $url)"
      "$KUBECTL" delete "$kind" cloudbase --ignore-not-found >/dev/null
    fi
  done
fi
