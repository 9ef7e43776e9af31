//go:build linux

package local

import "syscall"

// sysProcAttr puts an instance in a process group of its own, so that a
// terminal's Ctrl-C reaches the server (which drains the instances) and not
// the instances directly, and asks the kernel to send the instance SIGTERM
// when the server dies, so that no instance outlives it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
