package main

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, on machines without /usr/share/zoneinfo
)

// validateAt runs gather validate on the test crawl with the given schedule
// keys, listing runs from now.
func validateAt(t *testing.T, now time.Time, schedule string) (int, string, string) {
	t.Helper()
	old := validateNow
	validateNow = func() time.Time { return now }
	t.Cleanup(func() { validateNow = old })
	cfg := writeFile(t, t.TempDir(), "job.yaml", crawlYAML("https://example.com")+"schedule:\n"+schedule)
	return runGather(t, "validate", "-c", cfg)
}

// scheduleLines is validate's output from the schedule line on.
func scheduleLines(t *testing.T, stdout string) string {
	t.Helper()
	i := strings.Index(stdout, "schedule  ")
	if i < 0 {
		t.Fatalf("no schedule in:\n%s", stdout)
	}
	return stdout[i:]
}

// The 02:30 that Berlin's spring change jumps over is pointed out where it
// falls among the next runs, and the autumn 02:30 that happens twice is
// announced in a dst line, with what gather does at each.
func TestValidate_DaylightSavingInBerlin(t *testing.T) {
	code, stdout, stderr := validateAt(t, time.Date(2027, 3, 25, 12, 0, 0, 0, time.UTC), "  cron: \"30 2 * * *\"\n  timezone: Europe/Berlin\n")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := `schedule  30 2 * * * in Europe/Berlin; next runs:
          2027-03-26 02:30:00 CET
          2027-03-27 02:30:00 CET
          2027-03-28 02:30 does not exist (the clocks jump from 02:00 CET to 03:00 CEST): skipped
          2027-03-29 02:30:00 CEST
          2027-03-30 02:30:00 CEST
          2027-03-31 02:30:00 CEST
dst       2027-10-31 02:30 happens twice (the clocks go back from 03:00 CEST to 02:00 CET): gather runs at both
`
	if got := scheduleLines(t, stdout); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// The 01:30 that New York's November change repeats is marked on both
// runs; before them, the same is a dst line.
func TestValidate_DaylightSavingInNewYork(t *testing.T) {
	const sched = "  cron: \"30 1 * * *\"\n  timezone: America/New_York\n"
	code, stdout, stderr := validateAt(t, time.Date(2026, 10, 30, 12, 0, 0, 0, time.UTC), sched)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := `schedule  30 1 * * * in America/New_York; next runs:
          2026-10-31 01:30:00 EDT
          2026-11-01 01:30:00 EDT  (01:30 happens twice: the clocks go back from 02:00 EDT to 01:00 EST; gather runs at both)
          2026-11-01 01:30:00 EST  (the second 01:30, 1h after the first)
          2026-11-02 01:30:00 EST
          2026-11-03 01:30:00 EST
`
	if got := scheduleLines(t, stdout); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	_, stdout, _ = validateAt(t, time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC), sched)
	if want := "\ndst       2026-11-01 01:30 happens twice (the clocks go back from 02:00 EDT to 01:00 EST): gather runs at both\n"; !strings.HasSuffix(stdout, want) {
		t.Errorf("want the November change announced:\n%s", stdout)
	}
	if strings.Count(stdout, "\ndst ") != 1 {
		t.Errorf("March's change (02:00 to 03:00) does not touch 01:30:\n%s", stdout)
	}
}

// A zone without daylight saving, and a schedule counting real time, get
// no dst line; the latter is shown in schedule.timezone too.
func TestValidate_NoDaylightSaving(t *testing.T) {
	for _, tc := range []struct{ sched, first string }{
		{"  cron: \"30 2 * * *\"\n  timezone: Asia/Tokyo\n", "\n          2027-03-26 02:30:00 JST\n"},
		{"  cron: \"@every 6h\"\n  timezone: Europe/Berlin\n", "\n          2027-03-25 19:00:00 CET\n"},
	} {
		code, stdout, stderr := validateAt(t, time.Date(2027, 3, 25, 12, 0, 0, 0, time.UTC), tc.sched)
		if code != exitOK || strings.Contains(stdout, "dst") || strings.Count(stdout, "\n          2027-") != 5 || !strings.Contains(stdout, tc.first) {
			t.Errorf("%s: exit %d\n%s%s", tc.sched, code, stdout, stderr)
		}
	}
}

// A spec that never runs, and a zone given twice, fail validation with
// exit 2, as gather schedule refuses them.
func TestValidate_SchedulesThatCannotRun(t *testing.T) {
	for sched, msg := range map[string]string{
		"  cron: \"0 0 31 2 *\"\n": `job.yaml: schedule.cron: "0 0 31 2 *" never runs (no Feb 31)`,
		"  cron: \"CRON_TZ=Asia/Tokyo 0 3 * * *\"\n  timezone: Europe/Berlin\n": `job.yaml: schedule.cron: "CRON_TZ=Asia/Tokyo 0 3 * * *" names its own time zone with CRON_TZ= and schedule.timezone names "Europe/Berlin"`,
		"  cron: \"CRON_TZ=Asia/Tokyo\"\n":                                      "job.yaml: schedule.cron: invalid cron spec",
	} {
		code, stdout, stderr := validateAt(t, time.Now(), sched)
		if code != exitUsage || !strings.Contains(stderr, msg) || strings.Contains(stdout, "next runs") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", sched, code, stdout, stderr, msg)
		}
	}
	// The spec's own zone alone is fine, and its runs are shown in it.
	code, stdout, stderr := validateAt(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), "  cron: \"CRON_TZ=Asia/Tokyo 0 3 * * *\"\n")
	if code != exitOK || !strings.Contains(stdout, "in Asia/Tokyo; next runs:\n          2026-12-02 03:00:00 JST\n") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}

// A config that needs a browser that is not there fails validation with
// exit 2, naming the key and how to install Chromium.
func TestValidate_BrowserMissing(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "job.yaml", strings.Replace(crawlYAML("https://example.com"), "  parallelism: 2\n",
		"  parallelism: 2\n  fetch: browser\n  browser:\n    path: /nonexistent/chromium\n", 1))
	code, _, stderr := runGather(t, "validate", "-c", cfg)
	if code != exitUsage || !strings.Contains(stderr, "crawl.browser.path") || !strings.Contains(stderr, "apt-get install chromium") {
		t.Errorf("exit %d, stderr %q: want exit 2 naming crawl.browser.path and the install line", code, stderr)
	}
	// fetch: auto needs Chromium for challenges only: valid, and said.
	cfg = writeFile(t, t.TempDir(), "job.yaml", strings.Replace(crawlYAML("https://example.com"), "  parallelism: 2\n",
		"  parallelism: 2\n  fetch: auto\n  browser:\n    path: /nonexistent/chromium\n", 1))
	code, stdout, stderr := runGather(t, "validate", "-c", cfg)
	if code != 0 || !strings.Contains(stdout, "fetch     auto; no Chromium") || !strings.Contains(stdout, "apt-get install chromium") {
		t.Errorf("exit %d, stdout %q, stderr %q: want ok, saying challenges will fail and how to install Chromium", code, stdout, stderr)
	}
}
