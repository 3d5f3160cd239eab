package schedule

import (
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, on machines without /usr/share/zoneinfo

	"github.com/robfig/cron/v3"

	"github.com/gather-crawler/gather/config"
)

func parseIn(t *testing.T, spec, tz string) cron.Schedule {
	t.Helper()
	cfg := &config.Config{File: "t.yaml"}
	cfg.Schedule.Cron, cfg.Schedule.Timezone = spec, tz
	sched, err := cfg.CronSchedule(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return sched
}

func clocks(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format("2006-01-02 15:04 MST")
	}
	return out
}

// These pin what robfig/cron's Next does at the changes, which the
// scheduler follows and validate reports: the 02:30 that Berlin's spring
// change jumps over is missed, the 01:30 that New York's autumn change
// repeats runs twice.
func TestClockChanges(t *testing.T) {
	from, to := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC)

	berlin := ClockChanges(parseIn(t, "30 2 * * *", "Europe/Berlin"), from, to)
	if len(berlin) != 2 {
		t.Fatalf("Berlin: %+v, want the March and the October change", berlin)
	}
	spring, autumn := berlin[0], berlin[1]
	if got := spring.At.UTC(); !got.Equal(time.Date(2027, 3, 28, 1, 0, 0, 0, time.UTC)) || spring.Shift != time.Hour {
		t.Errorf("spring change at %s by %s", got, spring.Shift)
	}
	if got := clocks(spring.Times); !slices.Equal(got, []string{"2027-03-28 02:30 CET"}) || len(spring.Runs) != 0 {
		t.Errorf("spring: times %v, runs %v; want 02:30 skipped with no run instead", got, clocks(spring.Runs))
	}
	if got := clocks(autumn.Times); autumn.Shift != -time.Hour || !slices.Equal(got, []string{"2027-10-31 02:30 CEST"}) {
		t.Errorf("autumn: shift %s, times %v", autumn.Shift, got)
	}
	if got := clocks(autumn.Runs); !slices.Equal(got, []string{"2027-10-31 02:30 CEST", "2027-10-31 02:30 CET"}) {
		t.Errorf("autumn runs %v, want both 02:30s", got)
	}

	ny := ClockChanges(parseIn(t, "30 1 * * *", "America/New_York"), from, to)
	if len(ny) != 1 || ny[0].Shift != -time.Hour {
		t.Fatalf("New York: %+v, want only November's change (March jumps 02:00-03:00, past 01:30)", ny)
	}
	if got := clocks(ny[0].Runs); !slices.Equal(got, []string{"2027-11-07 01:30 EDT", "2027-11-07 01:30 EST"}) {
		t.Errorf("New York runs %v, want both 01:30s", got)
	}

	// Every 20 minutes in the hour that happens twice: six runs.
	if c := ClockChanges(parseIn(t, "*/20 1 * * *", "America/New_York"), from, to); len(c) != 1 || len(c[0].Times) != 3 || len(c[0].Runs) != 6 {
		t.Errorf("*/20 1 * * *: %+v", c)
	}
	for _, tc := range []struct{ spec, tz string }{
		{"0 3 * * *", "Europe/Berlin"}, // after both changes' hours
		{"30 2 * * *", "Asia/Tokyo"},   // no daylight saving
		{"@every 1h", "Europe/Berlin"}, // counts real time
		{"30 2 * * *", "UTC"},
		{"CRON_TZ=UTC 30 2 * * *", ""},
	} {
		if c := ClockChanges(parseIn(t, tc.spec, tc.tz), from, to); len(c) != 0 {
			t.Errorf("%s in %q: %+v, want none", tc.spec, tc.tz, c)
		}
	}
	// The spec's own zone counts as schedule.timezone does.
	if c := ClockChanges(parseIn(t, "CRON_TZ=Europe/Berlin 30 2 * * *", ""), from, to); len(c) != 2 {
		t.Errorf("CRON_TZ=Europe/Berlin: %+v", c)
	}
}
