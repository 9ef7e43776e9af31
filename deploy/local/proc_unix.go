//go:build unix && !linux

package local

import "syscall"

// sysProcAttr puts an instance in a process group of its own, so that a
// terminal's Ctrl-C reaches the server (which drains the instances) and not
// the instances directly. Only Linux can also tie the instance's life to
// the server's (Pdeathsig).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
