// Package flowline holds the source of the packages a Go bundle imports
// (runtime and what it depends on in this module), with go.mod and go.sum,
// so that a server builds bundles offline against the runtime of its own
// version. codegen/build writes it out once and builds against it.
package flowline

import "embed"

// Source is this module's go.mod, go.sum and the packages Go bundles
// import. A test checks that it holds every package runtime imports from
// this module.
//
//go:embed go.mod go.sum engine/*.go engine/egress/*.go engine/redact/*.go flow/*.go
var Source embed.FS
