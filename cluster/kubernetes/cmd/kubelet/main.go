// Command kubelet runs the upstream Kubernetes kubelet (k8s.io/kubernetes/cmd/kubelet/app).
package main

import (
	"context"
	"os"
	_ "time/tzdata" // time zones for CronJob, as upstream's main embeds them

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric

	"k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {
	os.Exit(cli.Run(app.NewKubeletCommand(context.Background())))
}
