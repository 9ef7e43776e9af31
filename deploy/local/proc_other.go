//go:build !unix

package local

import (
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// terminate stops the instance. Without Unix signals there is no graceful
// way to ask, so the instance is killed.
func terminate(p *os.Process) error { return p.Kill() }
