package schedule

import "time"

// Clock is the scheduler's time: when runs are due and how long jitter
// waits. Tests give the scheduler a clock they move by hand, so that a
// daily schedule is tested in microseconds.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed, and a func
	// that gives up the wait (the channel then never receives).
	After(d time.Duration) (<-chan time.Time, func())
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) After(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}
