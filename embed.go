// Package flowline holds the source of the packages a Go bundle imports
// (engine, the node types, and what they depend on in this module), with
// go.mod and go.sum, so that a server builds bundles offline against the
// engine of its own version. codegen/build writes it out once and builds against it.
package flowline

import "embed"

// Source is this module's go.mod, go.sum and the packages Go bundles
// import. A test checks that it holds every package of this
// module that generated code imports.
//
//go:embed go.mod go.sum contract/*.go flow/*.go flow/nodes/*.go codegen/*.go codegen/golang/*.go codegen/js/*.go
//go:embed engine/*.go engine/egress/*.go engine/redact/*.go engine/httpcall/*.go engine/sqlquery/*.go engine/sandbox/*.go engine/schema/*.go
var Source embed.FS
