//go:build !linux

package bench

// TreeMemory is not measured outside Linux.
func TreeMemory(pid int) (rssMB, pssMB float64) { return 0, 0 }
