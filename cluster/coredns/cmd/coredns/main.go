// CoreDNS with only the plugins the local cluster's Corefile uses (cluster/lib/coredns.sh), in the way
// CoreDNS documents for builds outside its tree: import coremain and the plugins wanted; the order in
// which plugins run stays the one CoreDNS fixes (dnsserver.Directives).
// https://coredns.io/2017/07/25/compile-time-enabling-or-disabling-plugins/
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func main() {
	coremain.Run()
}
