// Package checks holds the example checks files, embedded so that socq
// serve's dashboard works without a file at hand.
package checks

import _ "embed"

// SOCMetrics is soc-metrics.yaml: the SOC metrics of Microsoft's incident
// metrics article as socq check gates.
//
//go:embed soc-metrics.yaml
var SOCMetrics []byte
