//go:build !linux

package jshost

// limitAddressSpace is a no-op where there is no RLIMIT_AS to set; the
// soft memory limit and the server's timeout still apply.
func limitAddressSpace(int64) error { return nil }
