//go:build race

package main

// raceEnabled: the race detector slows everything several-fold; tests that
// check values over a whole corpus, not concurrency, skip under it.
const raceEnabled = true
