//go:build unix

package bench

import "syscall"

// flushDisks writes every dirty page of the machine back, so that the
// writeback of what ran before does not fall into the next measurement.
func flushDisks() { syscall.Sync() }
