//go:build race

package crawler_test

// raceEnabled: the race detector slows goroutines down several-fold, so
// time windows measured in tests need more slack.
const raceEnabled = true
