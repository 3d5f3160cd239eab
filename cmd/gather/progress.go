package main

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gather-crawler/gather/crawler"
)

// progressBar draws one status line on a terminal. Log output written
// through it clears the line first and redraws it after, so the two never
// mangle each other.
type progressBar struct {
	mu   sync.Mutex
	out  io.Writer
	line string
}

func newProgressBar(out io.Writer) *progressBar { return &progressBar{out: out} }

// Write prints a log line above the bar.
func (b *progressBar) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.line != "" {
		io.WriteString(b.out, "\r\033[K")
	}
	n, err := b.out.Write(p)
	if b.line != "" {
		io.WriteString(b.out, b.line)
	}
	return n, err
}

func (b *progressBar) draw(s crawler.Stats) {
	line := progressLine(s)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.line = line
	fmt.Fprint(b.out, "\r\033[K"+line)
}

// progressLine is the bar's text: pages done and queued (the total grows
// as a follow crawl discovers pages), rate, items, errors, requests on
// the wire (per host when there are several) and an ETA.
func progressLine(s crawler.Stats) string {
	const width = 30
	var bar string
	if s.Total > 0 {
		filled := int(float64(width) * float64(min(s.Done, s.Total)) / float64(s.Total))
		bar = fmt.Sprintf("[%s%s] %d done · %d queued %3.0f%%", strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
			s.Done, s.Queued(), 100*float64(min(s.Done, s.Total))/float64(s.Total))
	} else {
		bar = fmt.Sprintf("%d done", s.Done)
	}
	rate := 0.0
	if secs := s.Elapsed.Seconds(); secs > 0 {
		rate = float64(s.OK+s.Failed+s.Skipped) / secs
	}
	line := fmt.Sprintf("%s  %.1f pages/s  %d items  %s  %s", bar, rate, s.Items, plural(s.Failed, "error", "errors"), inFlight(s))
	if q := s.Queued(); q > 0 && rate > 0 {
		eta := time.Duration(float64(q) / rate * float64(time.Second))
		line += "  ETA " + eta.Round(time.Second).String()
	}
	return line
}

// inFlight says how many requests are on the wire, and to which hosts
// when there are several.
func inFlight(s crawler.Stats) string {
	out := fmt.Sprintf("%d in flight", s.InFlight)
	if len(s.InFlightHosts) > 1 {
		hosts := slices.Sorted(maps.Keys(s.InFlightHosts))
		parts := make([]string, 0, 4)
		for i, h := range hosts {
			if i == 3 {
				parts = append(parts, fmt.Sprintf("+%d hosts", len(hosts)-3))
				break
			}
			parts = append(parts, fmt.Sprintf("%s %d", h, s.InFlightHosts[h]))
		}
		out += " (" + strings.Join(parts, ", ") + ")"
	}
	return out
}

func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.line != "" {
		io.WriteString(b.out, "\n")
		b.line = ""
	}
}

// startProgress reports a running crawl: a bar redrawn 5 times a second on a
// terminal, else a log line every 10 seconds. The returned func stops the
// reporter and waits for it.
func startProgress(c *crawler.Crawler, bar *progressBar, log *slog.Logger) (stop func()) {
	every := 10 * time.Second
	if bar != nil {
		every = 200 * time.Millisecond
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if bar != nil {
					bar.draw(c.Stats())
					bar.finish()
				}
				return
			case <-t.C:
				s := c.Stats()
				if bar != nil {
					bar.draw(s)
					continue
				}
				log.Info("progress", "done", s.Done, "queued", s.Queued(), "total", s.Total, "discovered", s.Discovered, "ok", s.OK, "failed", s.Failed, "skipped", s.Skipped,
					"already_stored", s.Already, "items", s.Items, "in_flight", s.InFlight, "retries", s.Retries,
					"pages_per_s", fmt.Sprintf("%.1f", float64(s.OK+s.Failed+s.Skipped)/max(s.Elapsed.Seconds(), 0.001)))
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
