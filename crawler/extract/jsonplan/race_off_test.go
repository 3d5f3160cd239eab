//go:build !race

package jsonplan

const raceEnabled = false
