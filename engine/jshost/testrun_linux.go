package jshost

import "syscall"

// limitAddressSpace caps the process's address space: an allocation past
// it fails, and the Go runtime ends the process, this one only.
func limitAddressSpace(n int64) error {
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: uint64(n), Max: uint64(n)})
}
