// The service discoveries of the Prometheus that scripts/install-binaries.sh builds for tests and
// up-local, in place of plugins/plugins.go (what Prometheus' README documents: edit plugins.yml,
// `make plugins`). dns: the generated configs find the collector pods by it; kubernetes: kept for
// configs teams bring. file and http are always in (plugins/minimum.go). The cloud ones pull in the
// EC2, Azure and GCE SDKs: about a third of a cold Prometheus build. A config that uses another
// fails `promtool check config` in tests/test_backends.py.

package plugins

import (
	_ "github.com/prometheus/prometheus/discovery/dns"
	_ "github.com/prometheus/prometheus/discovery/kubernetes"
)
