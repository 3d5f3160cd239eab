package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser reads the schedule.cron syntax: 5 fields or a descriptor,
// optionally after CRON_TZ= or TZ=. It is unexported so that validation
// and the scheduler can only parse through cronSchedule and never come
// to disagree about a spec.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// CronSchedule is the schedule `gather schedule` runs the job on: the cron
// spec in schedule.timezone (or in the spec's own CRON_TZ=, or local
// time). now is when the schedule starts: a spec with no run in
// robfig/cron's horizon of 5 years after it is refused, since a scheduler
// would wait for it forever. The errors are the ones Validate reports.
func (c *Config) CronSchedule(now time.Time) (cron.Schedule, error) {
	sched, errs := c.cronSchedule(now)
	switch {
	case len(errs) == 1:
		return nil, errs[0]
	case len(errs) > 1:
		return nil, errs
	case sched == nil:
		return nil, &Error{File: c.File, Key: "schedule.cron", Msg: "no schedule: gather schedule needs one (e.g. \"@daily\" or \"0 3 * * *\")"}
	}
	return sched, nil
}

// cronSchedule parses the schedule keys, reporting every problem; with no
// cron spec it only checks the time zone and returns no schedule.
func (c *Config) cronSchedule(now time.Time) (cron.Schedule, Errors) {
	p := &problems{file: c.File}
	spec, tz := c.Schedule.Cron, c.Schedule.Timezone
	var loc *time.Location
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			p.add("schedule.timezone", "unknown time zone %q", tz)
		}
		loc = l
	}
	if spec == "" {
		return nil, p.errs
	}
	if prefix, zone, ok := cronZone(spec); ok {
		switch {
		case tz != "":
			// Before this was caught, validate showed the spec's zone and
			// gather schedule refused the doubled prefix with exit 2.
			p.add("schedule.cron", "%q names its own time zone with %s and schedule.timezone names %q: set the zone in one place", spec, prefix, tz)
			return nil, p.errs
		case !strings.Contains(spec, " "):
			// robfig/cron slices up to the first space and panics without one.
			p.add("schedule.cron", "invalid cron spec %q: no schedule after %s%s (separate them with a space)", spec, prefix, zone)
			return nil, p.errs
		case zone == "":
			// time.LoadLocation("") is UTC, while an empty
			// schedule.timezone is local time: an empty CRON_TZ= is more
			// likely an unset variable than a wish for UTC.
			p.add("schedule.cron", "invalid cron spec %q: %s names no time zone (write UTC, or set schedule.timezone)", spec, prefix)
			return nil, p.errs
		}
	}
	sched, err := cronParser.Parse(spec)
	if err != nil {
		p.add("schedule.cron", "invalid cron spec %q: %v", spec, err)
		return nil, p.errs
	}
	if s, ok := sched.(*cron.SpecSchedule); ok && loc != nil {
		s.Location = loc
	}
	if sched.Next(now).IsZero() {
		p.add("schedule.cron", "%q never runs%s", spec, neverReason(sched))
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return sched, nil
}

// cronZone reports whether spec starts with robfig/cron's time zone
// prefix, and which prefix and zone name.
func cronZone(spec string) (prefix, zone string, ok bool) {
	for _, prefix := range []string{"CRON_TZ=", "TZ="} {
		if rest, found := strings.CutPrefix(spec, prefix); found {
			zone, _, _ = strings.Cut(rest, " ")
			return prefix, zone, true
		}
	}
	return "", "", false
}

// daysIn is the most days each month can have.
var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// neverReason explains a schedule that robfig/cron finds no run for: when
// every day of the month it names is past the end of every month it
// names, those dates; else the horizon it searched.
func neverReason(sched cron.Schedule) string {
	s, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return " in the next 5 years"
	}
	var missing []string
	for m := 1; m <= 12; m++ {
		if s.Month&(1<<m) == 0 {
			continue
		}
		for d := 1; d <= 31; d++ {
			if s.Dom&(1<<d) == 0 {
				continue
			}
			if d <= daysIn[m] {
				return " in the next 5 years"
			}
			missing = append(missing, fmt.Sprintf("%s %d", time.Month(m).String()[:3], d))
		}
	}
	if len(missing) == 0 {
		return " in the next 5 years"
	}
	list := missing[0]
	if n := len(missing); n > 1 {
		list = strings.Join(missing[:n-1], ", ") + " or " + missing[n-1]
	}
	return " (no " + list + ")"
}
