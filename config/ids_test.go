package config_test

import (
	"strings"
	"testing"

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
