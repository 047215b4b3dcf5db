// The CNCF distribution registry with the filesystem storage driver and htpasswd authentication only:
// what a registry on a persistent volume needs. Upstream's cmd/registry also links the cloud storage
// drivers (Azure, GCS, S3), which more than double the build. `registry serve` and
// `registry garbage-collect` are upstream's own commands.
// https://distribution.github.io/distribution/about/deploying/
package main

import (
	"os"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

func main() {
	if err := registry.RootCmd.Execute(); err != nil {
		os.Exit(1)
	}
}
