//go:build race

package jsonplan

// raceEnabled: under the race detector sync.Pool drops a share of what
// it is given on purpose, so allocation counts mean nothing.
const raceEnabled = true
