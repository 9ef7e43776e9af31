//go:build unix

package local

import (
	"os"
	"syscall"
)

// terminate asks the instance to drain and exit.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
