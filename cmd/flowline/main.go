// Command flowline is Flowline's server and CLI: `flowline serve` runs the
// API, the designer and the gateway; `flowline host` is the JS runtime host
// that every instance of a JS bundle runs as.
package main

import (
	"os"

	"github.com/flowline/flowline/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}
