package config_test

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, on machines without /usr/share/zoneinfo

	"github.com/gather-crawler/gather/config"
)

func withSchedule(schedule string) string {
	return validYAML + "schedule:\n" + schedule
}

// A spec no date satisfies is refused with the dates it asks for, instead
// of validating and then waiting forever in gather schedule.
func TestParse_CronThatNeverRuns(t *testing.T) {
	for spec, msg := range map[string]string{
		"0 0 31 2 *":             `"0 0 31 2 *" never runs (no Feb 31)`,
		"0 0 30,31 2 *":          `"0 0 30,31 2 *" never runs (no Feb 30 or Feb 31)`,
		"0 0 31 2,4,6 *":         `"0 0 31 2,4,6 *" never runs (no Feb 31, Apr 31 or Jun 31)`,
		"0 0 31 2 ?":             `"0 0 31 2 ?" never runs (no Feb 31)`,
		"CRON_TZ=UTC 0 0 30 2 *": `never runs (no Feb 30)`,
	} {
		_, err := parse(t, withSchedule(`  cron: "`+spec+`"`+"\n"), nil)
		wantProblem(t, err, "schedule.cron", msg)
	}
	// With a day of the week as well, robfig/cron runs on either.
	if _, err := parse(t, withSchedule(`  cron: "0 0 31 2 1"`+"\n"), nil); err != nil {
		t.Errorf("Feb 31 or any Monday in February: %v", err)
	}
	if _, err := parse(t, withSchedule(`  cron: "0 0 29 2 *"`+"\n"), nil); err != nil {
		t.Errorf("Feb 29 runs in leap years: %v", err)
	}
}

// The horizon is robfig/cron's: 5 years from when the schedule starts.
func TestCronSchedule_NoRunInFiveYears(t *testing.T) {
	cfg, err := parse(t, withSchedule(`  cron: "0 0 29 2 *"`+"\n  timezone: UTC\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// 2100 is no leap year: after 2096 the next Feb 29 is in 2104.
	_, err = cfg.CronSchedule(time.Date(2097, 3, 1, 0, 0, 0, 0, time.UTC))
	wantProblem(t, err, "schedule.cron", `"0 0 29 2 *" never runs in the next 5 years`)
	sched, err := cfg.CronSchedule(time.Date(2095, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if next := sched.Next(time.Date(2095, 3, 1, 0, 0, 0, 0, time.UTC)); !next.Equal(time.Date(2096, 2, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("next run %s", next)
	}
}

// A zone in the spec and one in schedule.timezone are one error naming
// both: gather schedule used to refuse what validate passed.
func TestParse_CronZoneTwice(t *testing.T) {
	for _, prefix := range []string{"CRON_TZ", "TZ"} {
		_, err := parse(t, withSchedule(`  cron: "`+prefix+`=Asia/Tokyo 0 3 * * *"`+"\n  timezone: Europe/Berlin\n"), nil)
		wantProblem(t, err, "schedule.cron", `"`+prefix+`=Asia/Tokyo 0 3 * * *" names its own time zone with `+prefix+`= and schedule.timezone names "Europe/Berlin"`)
		var es config.Errors
		if errors.As(err, &es) && len(es) != 1 {
			t.Errorf("want one error, got %v", err)
		}
	}
}

// The spec's own zone alone is what robfig/cron makes of it, in validate
// and the scheduler alike; the two forms it would crash on or read as UTC
// are refused.
func TestParse_CronZoneInSpec(t *testing.T) {
	cfg, err := parse(t, withSchedule(`  cron: "CRON_TZ=Asia/Tokyo 0 3 * * *"`+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := cfg.CronSchedule(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if next := sched.Next(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)); !next.Equal(time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("next run %s, want 03:00 in Tokyo (18:00 UTC)", next.UTC())
	}
	for spec, msg := range map[string]string{
		"CRON_TZ=Asia/Tokyo":       "no schedule after CRON_TZ=Asia/Tokyo",
		"TZ= 0 3 * * *":            "TZ= names no time zone",
		"CRON_TZ=Mars/Base @daily": "provided bad location Mars/Base",
	} {
		_, err := parse(t, withSchedule(`  cron: "`+spec+`"`+"\n"), nil)
		wantProblem(t, err, "schedule.cron", msg)
	}
}

// A bad zone and a bad spec are both reported; a zone without a spec is
// still checked.
func TestParse_ScheduleProblemsTogether(t *testing.T) {
	_, err := parse(t, withSchedule("  cron: \"0 0 31 2 *\"\n  timezone: Mars/Base\n"), nil)
	wantProblem(t, err, "schedule.timezone", `unknown time zone "Mars/Base"`)
	wantProblem(t, err, "schedule.cron", "never runs (no Feb 31)")
	_, err = parse(t, withSchedule("  timezone: Mars/Base\n"), nil)
	wantProblem(t, err, "schedule.timezone", `unknown time zone "Mars/Base"`)
}

// Without a spec there is nothing to schedule.
func TestCronSchedule_Empty(t *testing.T) {
	cfg, err := parse(t, validYAML, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.CronSchedule(time.Now())
	wantProblem(t, err, "schedule.cron", "no schedule")
}
