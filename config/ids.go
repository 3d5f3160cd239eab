package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// IDOfLine reads one line of an ids file: blank lines and '#' comments are
// skipped, and so is anything after the id on its line. A byte order mark
// (which editors on Windows put at the start of a file) is no part of an
// id.
func IDOfLine(line string) (string, bool) {
	line = strings.TrimPrefix(line, "\uFEFF")
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", false
	}
	return fields[0], true
}

// hasID reads ids_file up to its first id, so that a file that cannot be
// read, or holds none, is a config error before any request is sent.
func hasID(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("cannot read %s: %v", path, unwrapPathError(err))
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if _, ok := IDOfLine(line); ok {
			return true, nil
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("cannot read %s: %v", path, err)
		}
	}
}

// Template is a url_template split where {id} stands. An id is data,
// never URL syntax: in the path it fills one segment (url.PathEscape, so
// "/", "?" and "#" are escaped), in the query one value (url.QueryEscape,
// so "&", "=" and "+" are too). Ids that would make a path segment "." or
// ".." are refused, not escaped: the request's URL is resolved by the
// WHATWG rules (colly does so), which treat "%2E%2E" as ".." too, so no
// escaping keeps such a segment from climbing the path.
type Template struct {
	raw  string
	head string   // scheme and authority, which hold no {id}
	path []string // the path's pieces around its {id}s
	// pathPercent is whether the path has a "%" of its own.
	pathPercent bool
	query       []string // the rest's pieces around its {id}s: query, fragment
}

const idPlaceholder = "{id}"

// ParseTemplate splits a url_template at its {id}s. It refuses an {id} in
// the scheme or host, where an id would pick the server, and in the
// fragment, which is never sent, and a template whose own path has a "."
// or ".." segment, which the request would resolve away: the page would be
// stored under a URL it was not fetched from.
func ParseTemplate(raw string) (Template, error) {
	if !strings.Contains(raw, idPlaceholder) {
		return Template{}, fmt.Errorf("%q does not contain {id}", raw)
	}
	authEnd := 0
	if i := strings.Index(raw, "://"); i >= 0 && !strings.ContainsAny(raw[:i], "/?#") {
		authEnd = i + 3
		if j := strings.IndexAny(raw[authEnd:], "/?#"); j >= 0 {
			authEnd += j
		} else {
			authEnd = len(raw)
		}
	}
	pathEnd := len(raw)
	if i := strings.IndexAny(raw[authEnd:], "?#"); i >= 0 {
		pathEnd = authEnd + i
	}
	fragment := len(raw)
	if i := strings.IndexByte(raw[pathEnd:], '#'); i >= 0 {
		fragment = pathEnd + i
	}
	switch {
	case strings.Contains(raw[:authEnd], idPlaceholder):
		return Template{}, errors.New("{id} stands in the scheme or host; an id may fill a path segment or a query value")
	case strings.Contains(raw[fragment:], idPlaceholder):
		return Template{}, errors.New("{id} stands in the fragment (after #), which is never sent to the server: every id would fetch the same page; put it in the path or the query")
	}
	path := raw[authEnd:pathEnd]
	if path == "" && authEnd > 0 {
		// Sent as "/" in any case (colly's parser adds it): the page is
		// stored under the URL it is fetched from.
		path = "/"
	}
	if seg, ok := dotSegment(strings.ReplaceAll(path, idPlaceholder, "x")); ok {
		return Template{}, fmt.Errorf("the path has a %q segment, which is resolved away before the request is sent; write the path without it", seg)
	}
	return Template{raw: raw, head: raw[:authEnd], path: strings.Split(path, idPlaceholder),
		pathPercent: strings.Contains(path, "%"), query: strings.Split(raw[pathEnd:], idPlaceholder)}, nil
}

// String is the template as written.
func (t Template) String() string { return t.raw }

// Fill returns the URL for id, or why id cannot fill the template.
func (t Template) Fill(id string) (string, error) {
	if err := t.Check(id); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(t.head)
	fill(&b, t.path, url.PathEscape(id))
	fill(&b, t.query, url.QueryEscape(id))
	return b.String(), nil
}

// Check is Fill without building the URL, for reading a million ids fast.
func (t Template) Check(id string) error {
	if t.raw == "" {
		return errors.New("no url_template to fill")
	}
	if id == "" {
		return errors.New("empty id")
	}
	// Escaping neither makes nor unmakes a "." (nor a "%2E"), so only an
	// id of dots alone can make a dot segment — unless the template's own
	// "%" could run into the id's first characters.
	if len(t.path) < 2 || (strings.Trim(id, ".") != "" && !t.pathPercent) {
		return nil
	}
	var b strings.Builder
	esc := url.PathEscape(id)
	fill(&b, t.path, esc)
	if seg, ok := dotSegment(b.String()); ok {
		if seg == esc {
			return fmt.Errorf("id %q cannot be a path segment: it would move the request up the path", id)
		}
		return fmt.Errorf("id %q makes the path segment %q, which would move the request up the path", id, seg)
	}
	return nil
}

func fill(b *strings.Builder, pieces []string, id string) {
	for i, p := range pieces {
		if i > 0 {
			b.WriteString(id)
		}
		b.WriteString(p)
	}
}

// dotSegment returns the first segment of path that a URL parser resolves
// as "." or "..": WHATWG parsers, colly's among them, read "%2e" as "."
// there.
func dotSegment(path string) (string, bool) {
	for seg := range strings.SplitSeq(path, "/") {
		if len(seg) > 6 {
			continue
		}
		if s := strings.ReplaceAll(strings.ToLower(seg), "%2e", "."); s == "." || s == ".." {
			return seg, true
		}
	}
	return "", false
}
