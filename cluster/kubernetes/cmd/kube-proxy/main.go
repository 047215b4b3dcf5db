// Command kube-proxy runs the upstream Kubernetes kube-proxy (k8s.io/kubernetes/cmd/kube-proxy/app).
package main

import (
	"os"
	_ "time/tzdata" // time zones for CronJob, as upstream's main embeds them

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric

	"k8s.io/kubernetes/cmd/kube-proxy/app"
)

func main() {
	os.Exit(cli.Run(app.NewProxyCommand()))
}
