package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"

	"github.com/gather-crawler/gather/internal/browsertest"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/internal/redistest"
)

// The doors into the pipeline (crawl, try, a worker with a sink, a
// scheduled run) must store the same thing for the same response: every
// door picks only its source and its sink, so a case that one door gets
// right and another wrong is a second pipeline somewhere. Each case below
// is a response as real sites send it; want is what every door must say.

// doorCase is one page of the door site and what must come of it.
type doorCase struct {
	path string
	// title and link are the row's values (link: the <a>'s href made
	// absolute); status and reason the page's record when it is not ok.
	title, link    string
	status, reason string
	serve          func(w http.ResponseWriter, r *http.Request)
}

func encodeIn(t *testing.T, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encoding %q: %v", s, err)
	}
	return b
}

// page is an HTML page whose title is title, in bytes the caller encoded.
func page(head string, title []byte) []byte {
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html><html><head>" + head + "<title>")
	b.Write(title)
	b.WriteString(`</title></head><body><p>text</p><a href="next.html">next</a></body></html>`)
	return b.Bytes()
}

func serveBytes(ct string, body []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ct)
		w.Write(body)
	}
}

func doorCases(t *testing.T) []doorCase {
	latin1 := encodeIn(t, charmap.ISO8859_1, "Café")
	gz := func(ct string, body []byte) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(body)
			zw.Close()
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(b.Bytes())
		}
	}
	big := page("", []byte(strings.Repeat("x", 5000)))
	return []doorCase{
		{path: "/h/latin1", title: "Café", serve: serveBytes("text/html; charset=iso-8859-1", page("", latin1))},
		{path: "/h/cp1252", title: "“€5” — ok", serve: serveBytes("text/html; charset=windows-1252", page("", encodeIn(t, charmap.Windows1252, "“€5” — ok")))},
		{path: "/h/sjis", title: "日本語", serve: serveBytes("text/html; charset=Shift_JIS", page("", encodeIn(t, japanese.ShiftJIS, "日本語")))},
		{path: "/h/euckr", title: "한국어", serve: serveBytes("text/html; charset=EUC-KR", page("", encodeIn(t, korean.EUCKR, "한국어")))},
		{path: "/h/cp1251", title: "Привет", serve: serveBytes("text/html; charset=windows-1251", page("", encodeIn(t, charmap.Windows1251, "Привет")))},
		// The header wins over <meta> (WHATWG's encoding sniffing order).
		{path: "/h/disagree", title: "Café", serve: serveBytes("text/html; charset=iso-8859-1", page(`<meta charset="utf-8">`, latin1))},
		// A byte order mark wins over the header.
		{path: "/h/bom", title: "Café", serve: serveBytes("text/html; charset=iso-8859-1", append([]byte("\xEF\xBB\xBF"), page("", []byte("Café"))...))},
		{path: "/h/meta", title: "Café", serve: serveBytes("text/html", page(`<meta charset="iso-8859-1">`, latin1))},
		{path: "/h/utf8", title: "Café ☕", serve: serveBytes("text/html; charset=utf-8", page("", []byte("Café ☕")))},
		{path: "/h/gzip", title: "Café", serve: gz("text/html; charset=iso-8859-1", page("", latin1))},
		{path: "/h/gzip-sjis", title: "日本語", serve: gz("text/html; charset=shift_jis", page("", encodeIn(t, japanese.ShiftJIS, "日本語")))},
		// A redirect: the page is stored under the URL it was asked for;
		// its links resolve against where it ended up, or its <base>.
		{path: "/h/moved", title: "Café", link: "/h/final/next.html", serve: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/h/final/", http.StatusMovedPermanently)
		}},
		{path: "/h/based", title: "Café", link: "/elsewhere/next.html", serve: serveBytes("text/html; charset=iso-8859-1",
			page(`<base href="/elsewhere/">`, latin1))},
		{path: "/h/data.csv", status: "skipped", reason: "text/csv", serve: serveBytes("text/csv; charset=iso-8859-1", []byte("a,b\n1,2\n"))},
		{path: "/h/challenge", status: "failed", reason: "blocked: challenge page", serve: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("x-amzn-waf-action", "challenge")
			w.WriteHeader(http.StatusAccepted)
			w.Write(page("", []byte("Human Verification")))
		}},
		{path: "/h/big", status: "failed", reason: "response too large", serve: serveBytes("text/html; charset=iso-8859-1", big)},
	}
}

// doorSite serves the cases (and /h/final/, where /h/moved goes).
func doorSite(t *testing.T, cases []doorCase) *httptest.Server {
	mux := http.NewServeMux()
	for _, c := range cases {
		mux.HandleFunc(c.path, c.serve)
	}
	mux.HandleFunc("/h/final/", serveBytes("text/html; charset=iso-8859-1", page("", encodeIn(t, charmap.ISO8859_1, "Café"))))
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func doorConfig(t *testing.T, dir, base string, cases []doorCase, extra string) string {
	var urls strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&urls, "      - %q\n", base+c.path)
	}
	return writeFile(t, dir, "doors.yaml", fmt.Sprintf(`database: out.db
crawl:
  name: doors
  start:
    urls:
%s  parallelism: 4
  retries: 0
  timeout: 5s
  max_body_size: 4KB
items:
  pages:
    fields:
      title: {css: title}
      link: {css: a, attr: href, type: url}
%s`, urls.String(), extra))
}

// doorRecord is what a door said of one page.
type doorRecord struct {
	status, reason, title, link string
}

func (r doorRecord) String() string {
	return fmt.Sprintf("{%s %q title=%q link=%q}", r.status, r.reason, r.title, r.link)
}

// storedRecords reads, per page, what a door stored in the database.
func storedRecords(t *testing.T, path string) map[string]doorRecord {
	t.Helper()
	db := gathertest.OpenDB(t, path)
	out := map[string]doorRecord{}
	rows, err := db.Query(`SELECT p.url, p.status, COALESCE(p.error, ''), COALESCE(i.title, ''), COALESCE(i.link, '')
		FROM gather_pages p LEFT JOIN pages i ON i._url = p.url WHERE p.job = 'doors'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var r doorRecord
		if err := rows.Scan(&u, &r.status, &r.reason, &r.title, &r.link); err != nil {
			t.Fatal(err)
		}
		out[u] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkDoor holds what a door said to the cases' truth.
func checkDoor(t *testing.T, door, base string, cases []doorCase, got map[string]doorRecord) {
	t.Helper()
	for _, c := range cases {
		r, ok := got[base+c.path]
		if !ok {
			t.Errorf("%s: %s: no record", door, c.path)
			continue
		}
		wantStatus := c.status
		if wantStatus == "" {
			wantStatus = "ok"
		}
		bad := r.status != wantStatus || !strings.Contains(r.reason, c.reason)
		if wantStatus == "ok" {
			link := base + "/h/next.html"
			if c.link != "" {
				link = base + c.link
			}
			bad = bad || r.title != c.title || r.link != link
		}
		if bad {
			t.Errorf("%s: %s: got %v, want status %s reason ~%q title %q", door, c.path, r, wantStatus, c.reason, c.title)
		}
	}
}

func TestDoors_SameResponsesSameRecords(t *testing.T) {
	cases := doorCases(t)
	srv := doorSite(t, cases)
	results := map[string]map[string]doorRecord{}

	t.Run("crawl", func(t *testing.T) {
		dir := t.TempDir()
		cfg := doorConfig(t, dir, srv.URL, cases, "")
		code, out, errOut := runGather(t, "crawl", "-c", cfg)
		if code != 0 {
			t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
		}
		results["crawl"] = storedRecords(t, filepath.Join(dir, "out.db"))
		checkDoor(t, "crawl", srv.URL, cases, results["crawl"])

		// The archive is a source too: the same responses, read back from
		// the crawl's WARC files with no request, make the same records.
		code, out, errOut = runGather(t, "reextract", "-c", cfg)
		if code != 0 {
			t.Fatalf("reextract: exit %d\n%s\n%s", code, out, errOut)
		}
		results["reextract"] = storedRecords(t, filepath.Join(dir, "out.db"))
		checkDoor(t, "reextract", srv.URL, cases, results["reextract"])
	})

	t.Run("try", func(t *testing.T) {
		dir := t.TempDir()
		cfg := doorConfig(t, dir, srv.URL, cases, "")
		got := map[string]doorRecord{}
		for _, c := range cases {
			_, out, errOut := runGather(t, "try", "-c", cfg, "--format", "json", srv.URL+c.path)
			var res struct {
				Status, Reason string
				Items          map[string][]map[string]any
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("try %s: %v\n%s\n%s", c.path, err, out, errOut)
			}
			r := doorRecord{status: res.Status, reason: res.Reason}
			if rows := res.Items["pages"]; len(rows) == 1 {
				r.title, _ = rows[0]["title"].(string)
				r.link, _ = rows[0]["link"].(string)
			}
			got[srv.URL+c.path] = r
		}
		results["try"] = got
		checkDoor(t, "try", srv.URL, cases, got)
	})

	t.Run("worker+sink", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts a redis-server")
		}
		rs := redistest.Start(t)
		dir := t.TempDir()
		cfg := doorConfig(t, dir, srv.URL, cases, "")
		args := []string{"-c", cfg, "--frontier", rs.URL()}
		if code, out, errOut := runGather(t, append([]string{"seed"}, args...)...); code != 0 {
			t.Fatalf("seed: exit %d\n%s\n%s", code, out, errOut)
		}
		var wg sync.WaitGroup
		codes := make([]int, 2)
		outs := make([]string, 2)
		for i, cmd := range []string{"worker", "sink"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var o, e string
				codes[i], o, e = runGather(t, append([]string{cmd}, args...)...)
				outs[i] = o + e
			}()
		}
		wg.Wait()
		if codes[0] != 0 || codes[1] != 0 {
			t.Fatalf("worker exit %d, sink exit %d\nworker:\n%s\nsink:\n%s", codes[0], codes[1], outs[0], outs[1])
		}
		results["worker+sink"] = storedRecords(t, filepath.Join(dir, "out.db"))
		checkDoor(t, "worker+sink", srv.URL, cases, results["worker+sink"])
	})

	t.Run("schedule", func(t *testing.T) {
		dir := t.TempDir()
		cfg := doorConfig(t, dir, srv.URL, cases, "schedule:\n  cron: \"@every 1s\"\n")
		db := filepath.Join(dir, "out.db")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		var out, errOut bytes.Buffer
		go func() { done <- execute(ctx, []string{"schedule", "-c", cfg}, &out, &errOut) }()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(db); err == nil {
				if runs := runRows(t, db); len(runs) > 0 && runs[0].status == "finished" {
					break
				}
			}
			if time.Now().After(deadline) {
				cancel()
				<-done
				t.Fatalf("no finished run in 30s\n%s\n%s", out.String(), errOut.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("schedule: exit %d after its context ended\n%s", code, errOut.String())
		}
		results["schedule"] = storedRecords(t, db)
		checkDoor(t, "schedule", srv.URL, cases, results["schedule"])
	})

	// A browser decodes the page itself (by the same WHATWG order) and
	// hands over its DOM: the charset cases through fetch: browser, in a
	// crawl and in try.
	t.Run("browser", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts Chromium")
		}
		if _, err := browsertest.Chromium(); err != nil {
			browsertest.SkipWithout(t, "no Chromium: %v", err)
		}
		var sub []doorCase
		for _, c := range cases {
			if c.status == "" && c.path != "/h/moved" {
				sub = append(sub, c)
			}
		}
		dir := t.TempDir()
		cfg := doorConfig(t, dir, srv.URL, sub, "")
		yaml, _ := os.ReadFile(cfg)
		cfg = writeFile(t, dir, "doors.yaml", strings.Replace(string(yaml), "  retries: 0\n", "  retries: 0\n  fetch: browser\n  browser: {tabs: 2}\n", 1))
		code, out, errOut := runGather(t, "crawl", "-c", cfg)
		if code != 0 {
			t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
		}
		checkDoor(t, "crawl (browser)", srv.URL, sub, storedRecords(t, filepath.Join(dir, "out.db")))
		c := sub[2] // Shift_JIS
		_, out, errOut = runGather(t, "try", "-c", cfg, "--format", "json", srv.URL+c.path)
		if !strings.Contains(out, c.title) {
			t.Errorf("try (browser) %s: want %q in\n%s\n%s", c.path, c.title, out, errOut)
		}
	})

	// Beyond each door's truth: every door says the same of every page.
	var doors []string
	for d := range results {
		if len(results[d]) == 0 {
			continue
		}
		doors = append(doors, d)
	}
	slices.Sort(doors)
	for i := 1; i < len(doors); i++ { // none or one door when -run picks one
		d := doors[i]
		for u, want := range results[doors[0]] {
			if got := results[d][u]; got != want {
				t.Errorf("%s: %s says %v, %s says %v", u, doors[0], want, d, got)
			}
		}
	}
}
