//go:build tools

// Package tools pins the helm-unittest command in this module's build list;
// install-chart-tools.sh builds it with `go build github.com/helm-unittest/helm-unittest/cmd/helm-unittest`.
package tools

import _ "github.com/helm-unittest/helm-unittest/cmd/helm-unittest"
