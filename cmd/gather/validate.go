package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/frontier"
	"github.com/gather-crawler/gather/schedule"
)

// validateNow is when validate lists the next runs from; tests pin it so
// that the runs they expect cross a change of clocks.
var validateNow = time.Now

func newValidateCmd(g *globals) *cobra.Command {
	var cfgFile string
	var connect bool
	cmd := &cobra.Command{
		Use:   "validate [-c FILE] [--connect]",
		Short: "Check a config and print what it would crawl; sends no request",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath(cfgFile))
			if err != nil {
				return err
			}
			// Load reads ids_file only up to its first id; validate reads
			// all of it, so that a line a crawl would skip is found first.
			fileIDs, err := cfg.CheckIDsFile()
			if err != nil {
				return err
			}
			if connect {
				if err := checkFrontier(cmd.Context(), cfg); err != nil {
					return err
				}
			}
			describe(cmd.OutOrStdout(), cfg, fileIDs, validateNow())
			describeDeadColumns(cmd.Context(), cmd.OutOrStdout(), cfg)
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgFile, "config", "c", "", "config file (default $GATHER_CONFIG, else ./config.yaml)")
	cmd.Flags().BoolVar(&connect, "connect", false, "also check that the frontier (Redis) answers")
	return cmd
}

// describe prints what a valid config would do; fileIDs is how many ids
// its ids_file holds.
func describe(w io.Writer, cfg *config.Config, fileIDs int64, now time.Time) {
	cr := cfg.Crawl
	fmt.Fprintf(w, "%s: ok\n", cfg.File)
	fmt.Fprintf(w, "job       %s\n", cr.Name)
	fmt.Fprintf(w, "database  %s\n", cfg.Database)
	if cfg.Frontier != "" {
		fmt.Fprintf(w, "frontier  %s\n", frontier.Redact(cfg.Frontier))
	}
	printProxies(w, cr.Proxy)
	st := cr.Start
	if len(st.URLs) > 0 {
		fmt.Fprintf(w, "start     %s\n", plural(int64(len(st.URLs)), "URL", "URLs"))
		for i, u := range st.URLs {
			if i == 3 {
				fmt.Fprintf(w, "          …\n")
				break
			}
			fmt.Fprintf(w, "          %s\n", u)
		}
	}
	if st.URLTemplate != "" {
		fmt.Fprintf(w, "template  %s\n", st.URLTemplate)
		tmpl, _ := config.ParseTemplate(st.URLTemplate)
		if len(st.IDs) > 0 {
			first, _ := tmpl.Fill(st.IDs[0])
			fmt.Fprintf(w, "ids       %d listed, first %s\n", len(st.IDs), first)
		}
		if st.IDsFile != "" {
			fmt.Fprintf(w, "ids_file  %s: %s (streamed)\n", st.IDsFile, plural(fileIDs, "id", "ids"))
		}
	}
	hosts := cr.AllowedDomains
	if len(hosts) == 0 {
		hosts = cfg.StartHosts()
	}
	fmt.Fprintf(w, "domains   %s\n", strings.Join(hosts, ", "))
	fmt.Fprintf(w, "limits    parallelism %d per host", cr.Parallelism)
	if cr.Concurrency > 0 {
		fmt.Fprintf(w, ", %d pages at once in all", cr.Concurrency)
	}
	fmt.Fprintf(w, ", timeout %s, retries %d, max body %s, delay %s", cr.Timeout, cr.Retries, cr.MaxBodySize, cr.Delay)
	if cr.RandomDelay > 0 {
		fmt.Fprintf(w, " + up to %s", cr.RandomDelay)
	}
	fmt.Fprintf(w, ", robots.txt %s\n", map[bool]string{true: "obeyed", false: "ignored"}[cr.RobotsTxt])
	if cfg.NeedsBrowser() || cr.Fetch == config.FetchHTTP && (len(cr.Challenge) > 0 || len(cr.Captcha) > 0) {
		describeFetch(w, cfg)
	}
	if cr.MaxDepth > 1 {
		fmt.Fprintf(w, "follow    %s:", followDepth(cr.MaxDepth))
		for _, f := range cr.Follow {
			fmt.Fprintf(w, " %s", f.CSS)
			if f.Match != "" {
				fmt.Fprintf(w, " (matching %s)", f.Match)
			}
			if f.Hub {
				fmt.Fprint(w, " (hub)")
			}
		}
		fmt.Fprintln(w)
		if cr.HubRefreshAfter > 0 {
			fmt.Fprintf(w, "hubs      start pages and hub pages fetched again once stored more than %s ago, for new links\n", cr.HubRefreshAfter)
		}
	}
	if cr.RefreshAfter > 0 {
		fmt.Fprintf(w, "refresh   pages stored more than %s ago\n", cr.RefreshAfter)
	}
	for _, name := range cfg.ItemOrder {
		it := cfg.Items[name]
		var parts []string
		switch {
		case it.Each.CSS != "":
			parts = append(parts, "each css "+it.Each.CSS)
		case it.Each.XPath != "":
			parts = append(parts, "each xpath "+it.Each.XPath)
		case it.Each.JSON != "":
			p := "each json " + it.Each.JSON
			if it.Each.Items != "" {
				p += " → " + it.Each.Items
			}
			parts = append(parts, p)
		}
		if it.Fetch != "" {
			parts = append(parts, "fetch "+it.Fetch)
		}
		fmt.Fprintf(w, "item      %s (%s) key (%s)", name, strings.Join(it.FieldOrder, ", "), strings.Join(it.Key, ", "))
		if len(parts) > 0 {
			fmt.Fprintf(w, ", %s", strings.Join(parts, ", "))
		}
		fmt.Fprintln(w)
	}
	if cfg.Schedule.Cron != "" {
		sched, err := cfg.CronSchedule(now)
		if err != nil {
			fmt.Fprintf(w, "schedule  %s: %v\n", cfg.Schedule.Cron, err)
			return
		}
		if tz := cfg.Schedule.Timezone; tz != "" {
			// "@every 6h" has no zone of its own; show it in the configured one.
			if l, err := time.LoadLocation(tz); err == nil {
				now = now.In(l)
			}
		}
		describeSchedule(w, cfg.Schedule.Cron, sched, now)
	}
}

// describeSchedule prints the next five runs of a schedule and marks the
// ones a change of clocks (daylight saving time) skips or repeats. Such a
// change comes once or twice a year, so the changes of the year ahead
// that the five runs do not reach follow as dst lines.
func describeSchedule(w io.Writer, spec string, sched cron.Schedule, now time.Time) {
	loc, zoned := schedule.Zone(sched)
	if zoned {
		name := loc.String()
		if loc == time.Local {
			name = "local time"
		}
		fmt.Fprintf(w, "schedule  %s in %s; next runs:\n", spec, name)
	} else {
		loc = now.Location()
		fmt.Fprintf(w, "schedule  %s; next runs:\n", spec)
	}
	changes := schedule.ClockChanges(sched, now, now.AddDate(1, 0, 0))
	shown := make([]bool, len(changes))
	prev, t := now, now.In(loc)
	for range 5 {
		if t = sched.Next(t); t.IsZero() {
			fmt.Fprintf(w, "          no further run in the 5 years after %s\n", prev.In(loc).Format("2006-01-02 15:04 MST"))
			break
		}
		for i, c := range changes {
			if c.Shift > 0 && c.At.After(prev) && !c.At.After(t) {
				fmt.Fprintf(w, "          %s\n", skipNote(c, loc))
				shown[i] = true
			}
		}
		line := t.Format("2006-01-02 15:04:05 MST")
		for i, c := range changes {
			if c.Shift < 0 && slices.ContainsFunc(c.Runs, t.Equal) {
				line += "  (" + repeatMark(c, t, loc, shown[i]) + ")"
				shown[i] = true
			}
		}
		fmt.Fprintf(w, "          %s\n", line)
		prev = t
	}
	for i, c := range changes {
		if shown[i] {
			continue
		}
		note := skipNote(c, loc)
		if c.Shift < 0 {
			note = repeatNote(c, loc)
		}
		fmt.Fprintf(w, "dst       %s\n", note)
	}
}

// skipNote says which of a schedule's times a change of clocks jumps over
// and what the scheduler does instead.
func skipNote(c schedule.ClockChange, loc *time.Location) string {
	outcome := "skipped"
	if len(c.Runs) > 0 {
		outcome += "; gather runs at " + c.Runs[0].In(loc).Format("15:04 MST") + " instead"
	}
	return fmt.Sprintf("%s %s %s (%s): %s", c.Times[0].Format("2006-01-02"), wallTimes(c.Times), agree(len(c.Times), "does not exist", "do not exist"), clocksMove(c, loc), outcome)
}

// repeatNote says which of a schedule's times a change of clocks repeats
// and whether gather runs at both.
func repeatNote(c schedule.ClockChange, loc *time.Location) string {
	return fmt.Sprintf("%s %s %s twice (%s): %s", c.At.In(loc).Format("2006-01-02"), wallTimes(c.Times), agree(len(c.Times), "happens", "happen"), clocksMove(c, loc), repeatOutcome(c, loc))
}

// repeatMark annotates run t, at a time that a change of clocks repeats:
// in full the first time the change is met, then briefly.
func repeatMark(c schedule.ClockChange, t time.Time, loc *time.Location, explained bool) string {
	wall := t.In(loc).Format("15:04")
	second := !t.Before(c.At)
	switch {
	case !explained && second:
		return fmt.Sprintf("the second %s: %s %s twice, %s; %s", wall, wallTimes(c.Times), agree(len(c.Times), "happens", "happen"), clocksMove(c, loc), repeatOutcome(c, loc))
	case !explained:
		return fmt.Sprintf("%s %s twice: %s; %s", wallTimes(c.Times), agree(len(c.Times), "happens", "happen"), clocksMove(c, loc), repeatOutcome(c, loc))
	case second:
		return fmt.Sprintf("the second %s, %s after the first", wall, shortDuration(-c.Shift))
	}
	return fmt.Sprintf("the first %s of two", wall)
}

// repeatOutcome says at which occurrences of the repeated times gather
// runs, as the schedule's Next has it.
func repeatOutcome(c schedule.ClockChange, loc *time.Location) string {
	switch len(c.Runs) {
	case 2 * len(c.Times):
		if len(c.Times) == 1 {
			return "gather runs at both"
		}
		return "gather runs at both occurrences of each"
	case 0:
		return "gather runs at neither"
	}
	runs := make([]string, len(c.Runs))
	for i, r := range c.Runs {
		runs[i] = r.In(loc).Format("15:04 MST")
	}
	return "gather runs only at " + joinAnd(runs)
}

// clocksMove describes the change itself: "the clocks jump from 02:00
// CET to 03:00 CEST".
func clocksMove(c schedule.ClockChange, loc *time.Location) string {
	name, offset := c.At.Add(-time.Nanosecond).In(loc).Zone()
	from := c.At.In(time.FixedZone(name, offset)).Format("15:04 MST")
	to := c.At.In(loc).Format("15:04 MST")
	if c.Shift > 0 {
		return "the clocks jump from " + from + " to " + to
	}
	return "the clocks go back from " + from + " to " + to
}

// wallTimes lists a change's times of day, a long run of them as a range.
func wallTimes(times []time.Time) string {
	if n := len(times); n > 3 {
		return fmt.Sprintf("%s to %s (%d times)", times[0].Format("15:04"), times[n-1].Format("15:04"), n)
	}
	s := make([]string, len(times))
	for i, t := range times {
		s[i] = t.Format("15:04")
	}
	return joinAnd(s)
}

func joinAnd(s []string) string {
	if n := len(s); n > 1 {
		return strings.Join(s[:n-1], ", ") + " and " + s[n-1]
	}
	return strings.Join(s, "")
}

func agree(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// shortDuration writes 1h rather than 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// describeFetch says how pages are fetched, with which Chromium, and what
// fetch: auto cannot do without one.
func describeFetch(w io.Writer, cfg *config.Config) {
	cr := cfg.Crawl
	b := cr.Browser
	fmt.Fprintf(w, "fetch     %s", cr.Fetch)
	if cfg.NeedsBrowser() {
		exe, err := config.FindChromium(b.Path)
		switch {
		case err != nil:
			// Only auto gets here: browser without Chromium is invalid.
			fmt.Fprintf(w, "; no Chromium (%v): pages behind a JavaScript challenge will fail; %s", err, config.ChromiumInstall)
		default:
			fmt.Fprintf(w, "; Chromium %s, %d tabs, recycled after %d pages", exe, b.Tabs, b.RecycleAfter)
			if b.WaitFor != "" {
				fmt.Fprintf(w, ", a page is ready when %q matches", b.WaitFor)
			}
		}
	}
	if n := len(cr.Challenge); n > 0 {
		fmt.Fprintf(w, "; %s besides AWS WAF's", plural(int64(n), "challenge detector", "challenge detectors"))
	}
	if n := len(cr.Captcha); n > 0 {
		fmt.Fprintf(w, "; %s besides AWS WAF's", plural(int64(n), "CAPTCHA detector", "CAPTCHA detectors"))
	}
	fmt.Fprintln(w)
}

// followDepth says how deep a follow crawl goes, counting the start pages
// as max_depth does.
func followDepth(d int) string {
	switch {
	case d == config.MaxDepthUnlimited:
		return "links at any depth, within allowed_domains"
	case d == 2:
		return "the start pages and the pages they link to (max_depth 2)"
	}
	return fmt.Sprintf("up to %d pages deep, counting the start pages (max_depth %d)", d, d)
}
