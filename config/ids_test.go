package config_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
)

// An id fills {id} as data: one escaped path segment, or one escaped query
// value. Ids that would make a path segment "." or ".." are refused, since
// a URL parser resolves them (and their %2E spellings) away.
func TestTemplate_Fill(t *testing.T) {
	path, err := config.ParseTemplate("https://example.com/echo/{id}/end")
	if err != nil {
		t.Fatal(err)
	}
	query, err := config.ParseTemplate("https://example.com/find?q={id}&page=1")
	if err != nil {
		t.Fatal(err)
	}
	both, err := config.ParseTemplate("https://example.com/t/.{id}/?of={id}#top")
	if err != nil {
		t.Fatal(err)
	}
	pct, err := config.ParseTemplate("https://example.com/%{id}/end")
	if err != nil {
		t.Fatal(err)
	}
	bare, err := config.ParseTemplate("https://example.com?q={id}")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		tmpl    config.Template
		id, url string // url "" when refused, err then holds the message
		err     string
	}{
		{path, "tt0137523", "https://example.com/echo/tt0137523/end", ""},
		{path, "a/b", "https://example.com/echo/a%2Fb/end", ""},
		{path, "a?b", "https://example.com/echo/a%3Fb/end", ""},
		{path, "a#b", "https://example.com/echo/a%23b/end", ""},
		{path, "tt1 2", "https://example.com/echo/tt1%202/end", ""},
		{path, "é", "https://example.com/echo/%C3%A9/end", ""},
		{path, `a\b`, "https://example.com/echo/a%5Cb/end", ""},
		{path, "%2E%2E", "https://example.com/echo/%252E%252E/end", ""},
		{path, "...", "https://example.com/echo/.../end", ""},
		{path, "..", "", `id ".." cannot be a path segment`},
		{path, ".", "", `id "." cannot be a path segment`},
		{path, "", "", "empty id"},
		{query, "..", "https://example.com/find?q=..&page=1", ""},
		{query, "a&b=c", "https://example.com/find?q=a%26b%3Dc&page=1", ""},
		{query, "a b+c", "https://example.com/find?q=a+b%2Bc&page=1", ""},
		{query, "a#b/c?d", "https://example.com/find?q=a%23b%2Fc%3Fd&page=1", ""},
		{both, "a b", "https://example.com/t/.a%20b/?of=a+b#top", ""},
		{both, ".", "", `id "." makes the path segment "..", which would move`},
		{pct, "2e", "", `id "2e" makes the path segment "%2e", which would move`},
		{pct, "41", "https://example.com/%41/end", ""},
		{bare, "a b", "https://example.com/?q=a+b", ""},
	}
	for _, c := range cases {
		u, err := c.tmpl.Fill(c.id)
		switch {
		case c.url != "" && (err != nil || u != c.url):
			t.Errorf("%s with %q = %q, %v; want %q", c.tmpl, c.id, u, err, c.url)
		case c.url == "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s with %q = %q, %v; want an error containing %q", c.tmpl, c.id, u, err, c.err)
		}
		if cerr := c.tmpl.Check(c.id); (cerr == nil) != (err == nil) {
			t.Errorf("%s with %q: Check says %v, Fill %v", c.tmpl, c.id, cerr, err)
		}
	}
}

// {id} may stand in the path or the query, nowhere else; a template whose
// own path climbs is refused too, for the page would be stored under a URL
// it was not fetched from.
func TestParseTemplate_Refused(t *testing.T) {
	for tmpl, want := range map[string]string{
		"https://example.com/title#{id}":      "fragment",
		"https://{id}.example.com/title":      "scheme or host",
		"https://example.com/a/../{id}":       `".." segment`,
		"https://example.com/a/%2e/{id}":      `"%2e" segment`,
		"https://example.com/title/fullcred":  "does not contain {id}",
		"https://example.com/a/./b?q={id}#{x": `"." segment`,
	} {
		if _, err := config.ParseTemplate(tmpl); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error containing %q", tmpl, err, want)
		}
	}
	for _, tmpl := range []string{"https://example.com/a/.well-known/{id}", "https://example.com/{id}..html", "https://example.com/p?{id}"} {
		if _, err := config.ParseTemplate(tmpl); err != nil {
			t.Errorf("%s: %v", tmpl, err)
		}
	}
}

// Ids in the config that cannot fill the template are config errors naming
// their index; so is a template with {id} in the fragment.
func TestParse_IDsThatCannotBeASegment(t *testing.T) {
	doc := strings.Replace(validYAML, "ids: [tt1, tt2]", `ids: [tt1, "..", "a/b", "."]`, 1)
	_, err := parse(t, doc, nil)
	wantProblem(t, err, "crawl.start.ids[1]", `id ".." cannot be a path segment`)
	wantProblem(t, err, "crawl.start.ids[3]", `id "." cannot be a path segment`)
	if strings.Contains(err.Error(), "ids[2]") {
		t.Errorf("a/b is one segment once escaped: %v", err)
	}
	doc = strings.Replace(validYAML, "title/{id}/fullcredits", "search?q={id}", 1)
	if _, err := parse(t, strings.Replace(doc, "ids: [tt1, tt2]", `ids: ["..", "."]`, 1), nil); err != nil {
		t.Errorf("dots are plain query values: %v", err)
	}
	_, err = parse(t, strings.Replace(validYAML, "title/{id}/fullcredits", "title#{id}", 1), nil)
	wantProblem(t, err, "crawl.start.url_template", "fragment")
}

// The reader gives each line that holds an id, or is over MaxIDLine, with
// its line number, whatever the lengths and line endings; an over-long
// line is never held, only measured.
func TestIDReader_LinesOfAnyLength(t *testing.T) {
	long := strings.Repeat("y", config.MaxIDLine)
	content := "\uFEFFa # first\r\n\n# comment\n" +
		long + "\n" + // line 4: at the limit, an id
		long + "z\r\n" + // line 5: one over
		strings.Repeat("z", 1<<20) + "\r\n" + // line 6: far over, across reads
		"   b\t\n" +
		strings.Repeat("w", 3<<20) // line 8: over, and the file ends in it
	r := config.NewIDReader(strings.NewReader(content))
	var got []string
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		id := l.ID
		if len(id) > 10 {
			id = fmt.Sprintf("%d×%c", len(id), id[0])
		}
		got = append(got, fmt.Sprintf("%d:%s:%d", l.N, id, l.Long))
	}
	want := fmt.Sprintf("1:a:0 4:%d×y:0 5::%d 6::%d 7:b:0 8::%d", config.MaxIDLine, config.MaxIDLine+1, 1<<20, 3<<20)
	if strings.Join(got, " ") != want {
		t.Errorf("lines\n  %s\nwant\n  %s", strings.Join(got, " "), want)
	}
}

// Loading a config reads ids_file only up to its first id, so a bad line
// further on does not stop a crawl (which skips it); CheckIDsFile, which
// gather validate runs, reads it all and names the bad lines.
func TestCheckIDsFile(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 1; i <= 1000; i++ {
		if i == 501 {
			b.WriteString(strings.Repeat("x", 2<<20) + "\n")
		}
		fmt.Fprintf(&b, "tt%07d\n", i)
	}
	b.WriteString("..\n.\n")
	for range 15 {
		b.WriteString("a/../..\n..\n")
	}
	ids := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(ids, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parse(t, strings.Replace(validYAML, "    ids: [tt1, tt2]\n", "    ids_file: "+ids+"\n", 1), nil)
	if err != nil {
		t.Fatalf("a bad line after the first id fails the load: %v", err)
	}
	n, err := cfg.CheckIDsFile()
	if n != 1015 {
		t.Errorf("%d good ids, want 1000 and 15 a/../.. (one segment once escaped)", n)
	}
	wantProblem(t, err, "crawl.start.ids_file", ids+" line 501: 2097152 bytes long, over the 64 KiB limit for a line")
	wantProblem(t, err, "crawl.start.ids_file", ids+` line 1002: id ".." cannot be a path segment`)
	wantProblem(t, err, "crawl.start.ids_file", ids+` line 1003: id "." cannot be a path segment`)
	wantProblem(t, err, "crawl.start.ids_file", ids+": 18 bad lines in all, which a crawl skips (it crawls the 1015 good ids)")
	if lines := strings.Count(err.Error(), "\n") + 1; lines != 11 {
		t.Errorf("%d problems, want the first 10 bad lines and a count:\n%v", lines, err)
	}

	good := filepath.Join(dir, "good.txt")
	os.WriteFile(good, []byte("tt1\n# c\ntt2"), 0o644)
	cfg.Crawl.Start.IDsFile = good
	if n, err := cfg.CheckIDsFile(); n != 2 || err != nil {
		t.Errorf("good file: %d, %v", n, err)
	}
}

// A million ids validate in about a second at most, streamed.
func TestCheckIDsFile_MillionIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 10 MB file")
	}
	ids := filepath.Join(t.TempDir(), "ids.txt")
	f, err := os.Create(ids)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range 1_000_000 {
		fmt.Fprintf(w, "tt%07d\n", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cfg, err := parse(t, strings.Replace(validYAML, "    ids: [tt1, tt2]\n", "    ids_file: "+ids+"\n", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, err := cfg.CheckIDsFile()
	elapsed := time.Since(start)
	if n != 1_000_000 || err != nil {
		t.Fatalf("%d ids, %v", n, err)
	}
	t.Logf("1M ids checked in %v", elapsed)
	// Generous: the machine is shared; the point is streaming, not a
	// benchmark (it takes a few hundred milliseconds).
	if elapsed > 5*time.Second {
		t.Errorf("1M ids took %v", elapsed)
	}
}
