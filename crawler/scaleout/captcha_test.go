package scaleout_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/scaleout"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/internal/redistest"
)

// A CAPTCHA stops its host for every worker of a shared crawl, as it
// stops it for a local run: once one worker met it, no worker sends the
// host another request for the rest of the run (bar those already on
// their way), the host's other pages fail with the CAPTCHA's reason, and
// the other host goes on. gather status lists the host as stopped.
func TestShared_CaptchaStopsTheHostForEveryWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("a shared crawl against a real redis-server")
	}
	rs := redistest.Start(t)
	const n = 300
	ids := demo.IDs(n)
	// sharedConfig puts the even pages on the first site: the CAPTCHA
	// comes at its 20th page, with 130 of its pages still to go.
	captcha := "/title/" + ids[40] + "/"
	const latency = 20 * time.Millisecond
	a, err := demo.New(demo.Options{Latency: latency, Track: true, Captcha: func(path string) bool { return strings.HasPrefix(path, captcha) }}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err := demo.New(demo.Options{Latency: latency, Track: true}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, sharedConfig(t, dir, rs.URL(), []*demo.Server{a, b}, n, 2))
	// Seconds alone, but up to half a minute under -race on two busy
	// cores: a crawl that has not ended after the bound left every
	// goroutine's stack in the log, shown on failure.
	const bound = 120 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	buf := &gathertest.Buffer{}
	logger := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the crawl said:\n%s", buf)
		}
	})
	hung := time.AfterFunc(bound-5*time.Second, func() {
		stacks := make([]byte, 8<<20)
		fmt.Fprintf(buf, "not ended after %s; every goroutine:\n%s\n", bound-5*time.Second, stacks[:runtime.Stack(stacks, true)])
	})
	defer hung.Stop()
	c, err := crawler.New(cfg, nil, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fr := open(t, rs.URL(), "seed", 10*time.Second)
	if _, err := scaleout.Seed(ctx, fr, c, nil); err != nil {
		t.Fatal(err)
	}
	crawlShared(t, ctx, rs.URL(), cfg, 3, crawler.Options{Logger: logger})

	var met time.Time
	for _, r := range a.Log() {
		if strings.HasPrefix(r.Path, captcha) {
			if !met.IsZero() {
				t.Errorf("the CAPTCHA's page was requested again at %s", r.At.Sub(met))
			}
			met = r.At
		}
	}
	if met.IsZero() {
		t.Fatal("the CAPTCHA's page was never requested")
	}
	// The crossing window: a request that took its slot before the stop
	// was written may reach the site just after the CAPTCHA, later on a
	// loaded machine and under -race.
	const grace = 400 * time.Millisecond
	var before, inside int
	for _, r := range a.Log() {
		switch {
		case r.Path == "/robots.txt":
		case r.At.After(met.Add(grace)):
			inside++
			if inside <= 5 {
				t.Errorf("%s requested %s after the CAPTCHA stopped the host", r.Path, r.At.Sub(met))
			}
		case r.At.Before(met):
			before++
		}
	}
	if inside > 0 {
		t.Errorf("%d requests sent to the host after its CAPTCHA (%d before it)", inside, before)
	}

	db := gathertest.OpenDB(t, cfg.Database)
	if got := gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_pages"); got != n {
		t.Errorf("%d pages recorded, want %d", got, n)
	}
	if got := gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_pages WHERE url LIKE ? AND status <> 'ok'", b.URL+"/%"); got != 0 {
		t.Errorf("%d pages of the other host not ok", got)
	}
	var stopped int
	for _, row := range gathertest.QueryStrings(t, db, "SELECT status || ' ' || coalesce(error, '') FROM gather_pages WHERE url LIKE ? AND status <> 'ok'", a.URL+"/%") {
		if !strings.HasPrefix(row, "failed blocked: captcha (needs a person)") {
			t.Errorf("a page of the CAPTCHA's host: %s", row)
		}
		stopped++
	}
	if stopped < n/2-before-10 {
		t.Errorf("%d pages of the CAPTCHA's host failed for it; %d were fetched before it, of %d", stopped, before, n/2)
	}
	if got := gathertest.QueryString(t, db, "SELECT group_concat(status, ',') FROM gather_runs"); got != "finished" {
		t.Errorf("runs: %s", got)
	}
	st, err := fr.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(a.URL, "http://")
	if why := st.Stopped[host]; !strings.Contains(why, "captcha") || len(st.Stopped) != 1 {
		t.Errorf("gather status's stopped hosts: %v", st.Stopped)
	}
	t.Logf("%d requests to the host before its CAPTCHA, %d after; %d of its pages failed for it", before, inside, stopped)
}

// A worker whose first request to a host comes after another worker's
// CAPTCHA stopped it learns of the stop from its robots.txt request: the
// host's pages fail with the CAPTCHA's reason, not as robots.txt
// unreachable (which the stop made it), and none is requested.
func TestShared_HostStoppedBeforeAWorkerMeetsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("a shared crawl against a real redis-server")
	}
	rs := redistest.Start(t)
	ss := sites(t, 2, 5*time.Millisecond)
	const n = 40
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, sharedConfig(t, dir, rs.URL(), ss, n, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := crawler.New(cfg, nil, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fr := open(t, rs.URL(), "seed", 10*time.Second)
	if _, err := scaleout.Seed(ctx, fr, c, nil); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(ss[0].URL, "http://")
	why := "blocked: captcha (needs a person): host " + host + " paused after a CAPTCHA on " + ss[0].URL + "/elsewhere"
	if err := fr.StopHost(ctx, host, why); err != nil {
		t.Fatal(err)
	}
	crawlShared(t, ctx, rs.URL(), cfg, 2, crawler.Options{})
	for _, r := range ss[0].Log() {
		t.Errorf("the stopped host was sent %s", r.Path)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	for _, row := range gathertest.QueryStrings(t, db, "SELECT coalesce(error, status) FROM gather_pages WHERE url LIKE ?", ss[0].URL+"/%") {
		if row != why {
			t.Errorf("a page of the stopped host: %s", row)
		}
	}
	if got := gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_pages WHERE url LIKE ? AND status = 'ok'", ss[1].URL+"/%"); got != n/2 {
		t.Errorf("%d pages of the other host ok, want %d", got, n/2)
	}
}
