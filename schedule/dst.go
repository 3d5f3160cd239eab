package schedule

import (
	"time"

	"github.com/robfig/cron/v3"
)

// A ClockChange is a moment a schedule's time zone changes its UTC offset
// (daylight saving time begins or ends) across wall-clock times the
// schedule names: times the clocks jump over, which do not exist that day,
// or times they go back over, which happen twice.
type ClockChange struct {
	// At is the instant of the change, in the schedule's zone.
	At time.Time
	// Shift is how far the clocks move: forward (> 0) skips times, back
	// (< 0) repeats them.
	Shift time.Duration
	// Times are the schedule's wall-clock times the change skips, read in
	// the offset before it, or, for a repeat, their first occurrences.
	Times []time.Time
	// Runs are when the schedule does run for Times, as its Next says:
	// for a skip, a run it makes in their stead (none: they are missed);
	// for a repeat, each occurrence it runs at.
	Runs []time.Time
}

// Zone is the time zone a schedule reads its times in: its own, or
// time.Local, which is what the scheduler's clock reads. ok is false for
// schedules such as "@every 6h" that count real time and have no zone.
func Zone(sched cron.Schedule) (loc *time.Location, ok bool) {
	s, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, false
	}
	if s.Location == nil {
		return time.Local, true
	}
	return s.Location, true
}

// ClockChanges lists the changes of offset in sched's zone in (from, to]
// that skip or repeat some of its times. What happens to those runs is
// read from sched's Next, which the scheduler follows, not assumed:
// robfig/cron v3.0.1 skips the times a change jumps over and runs twice at
// the times it goes back over, and a later version might not.
func ClockChanges(sched cron.Schedule, from, to time.Time) []ClockChange {
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil
	}
	loc, _ := Zone(sched)
	var out []ClockChange
	for t := from.In(loc); ; {
		_, at := t.ZoneBounds()
		if at.IsZero() || at.After(to) {
			return out
		}
		t = at
		nameBefore, before := at.Add(-time.Nanosecond).Zone()
		nameAfter, after := at.Zone()
		c := ClockChange{At: at, Shift: time.Duration(after-before) * time.Second}
		// The same fields in a zone that never changes offset give the
		// wall-clock times the schedule names, free of the change.
		zoneBefore, zoneAfter := *spec, *spec
		zoneBefore.Location = time.FixedZone(nameBefore, before)
		zoneAfter.Location = time.FixedZone(nameAfter, after)
		switch {
		case c.Shift > 0:
			for x := zoneBefore.Next(at.Add(-time.Second).In(zoneBefore.Location)); !x.IsZero() && x.Before(at.Add(c.Shift)); x = zoneBefore.Next(x) {
				c.Times = append(c.Times, x)
			}
			if len(c.Times) == 0 {
				continue
			}
			// Its first run after the change is either one it names (a
			// time after the gap) or a stand-in for a skipped one.
			if r := sched.Next(at.Add(-time.Second)); !r.IsZero() && !zoneAfter.Next(r.Add(-time.Second)).Equal(r) {
				c.Runs = append(c.Runs, r.In(loc))
			}
		case c.Shift < 0:
			back := -c.Shift
			second := map[int64]bool{}
			for x := zoneAfter.Next(at.Add(-time.Second)); !x.IsZero() && x.Before(at.Add(back)); x = zoneAfter.Next(x) {
				c.Times = append(c.Times, x.Add(-back).In(loc))
				second[x.Unix()] = true
			}
			if len(c.Times) == 0 {
				continue
			}
			// Follow Next through both occurrences of the repeated hour,
			// as the scheduler does, and keep the runs at repeated times.
			for r := sched.Next(at.Add(-back - time.Second)); !r.IsZero() && r.Before(at.Add(back)); r = sched.Next(r) {
				if (r.Before(at) && second[r.Add(back).Unix()]) || (!r.Before(at) && second[r.Unix()]) {
					c.Runs = append(c.Runs, r.In(loc))
				}
			}
		default:
			continue
		}
		out = append(out, c)
	}
}
