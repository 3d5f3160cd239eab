package crawler

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/config"
)

// drain reads the feed to its end and returns what it yielded and logged.
func drain(t *testing.T, start config.Start) (urls []string, f *feed, log string) {
	t.Helper()
	var buf bytes.Buffer
	f = newFeed(start)
	f.log = slog.New(slog.NewTextHandler(&buf, nil))
	defer f.close()
	for {
		u, err := f.next()
		if err != nil {
			t.Fatal(err)
		}
		if u == "" {
			return urls, f, buf.String()
		}
		urls = append(urls, u)
	}
}

func writeIDs(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A 2 MiB line at line 501 of 1,001 is reported by its number and
// skipped; the 1,000 ids around it are all yielded, and countStart, which
// sizes the progress bar and the "not reached" count, agrees.
func TestFeed_LongLineIsReportedAndSkipped(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 1000; i++ {
		if i == 501 {
			b.WriteString(strings.Repeat("x", 2<<20) + "\n")
		}
		fmt.Fprintf(&b, "tt%07d\n", i)
	}
	start := config.Start{URLTemplate: "http://127.0.0.1:1/title/{id}/", IDsFile: writeIDs(t, b.String())}
	urls, f, log := drain(t, start)
	if len(urls) != 1000 || urls[0] != "http://127.0.0.1:1/title/tt0000001/" || urls[999] != "http://127.0.0.1:1/title/tt0001000/" {
		t.Errorf("yielded %d URLs, first %q, last %q; want the 1000 ids", len(urls), urls[0], urls[len(urls)-1])
	}
	if f.skipped != 1 || !strings.Contains(log, "line=501") || !strings.Contains(log, "2097152 bytes long, over the 64 KiB limit") {
		t.Errorf("skipped %d; log:\n%s", f.skipped, log)
	}
	if n, err := countStart(context.Background(), start); err != nil || n != 1000 {
		t.Errorf("countStart = %d, %v; want 1000", n, err)
	}
}

// Ids that cannot be a path segment are skipped with their line numbers;
// past the first few the log only counts them, and countStart counts what
// the feed yields.
func TestFeed_BadIDsAreCountedNotFatal(t *testing.T) {
	var b strings.Builder
	b.WriteString("# ids\nok1\n")
	for range 25 {
		b.WriteString("..\n.\n")
	}
	b.WriteString(strings.Repeat("y", config.MaxIDLine+1) + "\r\n")
	b.WriteString("ok2 # the last\n\n")
	start := config.Start{URLTemplate: "http://127.0.0.1:1/a/{id}/b", IDs: []string{"x y", ".."}, IDsFile: writeIDs(t, b.String())}
	urls, f, log := drain(t, start)
	want := []string{"http://127.0.0.1:1/a/x%20y/b", "http://127.0.0.1:1/a/ok1/b", "http://127.0.0.1:1/a/ok2/b"}
	if strings.Join(urls, " ") != strings.Join(want, " ") {
		t.Errorf("yielded %q, want %q", urls, want)
	}
	if f.skipped != 52 {
		t.Errorf("skipped %d, want 52 (a start id, 50 dot lines, a long line)", f.skipped)
	}
	for _, w := range []string{"index=1", "line=3 ", "line=4 ", `id \"..\" cannot be a path segment`, "skipped=52"} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
	if n := strings.Count(log, "\n"); n != skipsLogged+1 {
		t.Errorf("%d log lines, want %d one by one and a count:\n%s", n, skipsLogged, log)
	}
	if n, err := countStart(context.Background(), start); err != nil || n != int64(len(urls)) {
		t.Errorf("countStart = %d, %v; the feed yields %d", n, err, len(urls))
	}
}
