// Package examples holds the example files shipped with socq, embedded so
// that `socq demo` can run them without a checkout.
package examples

import _ "embed"

// SOCMetrics is checks/soc-metrics.yaml: SOC metric gates for `socq check`.
//
//go:embed checks/soc-metrics.yaml
var SOCMetrics []byte

// SOCMetricsPath is SOCMetrics' path in the repository.
const SOCMetricsPath = "examples/checks/soc-metrics.yaml"
