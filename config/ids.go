package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"unicode"
)

// MaxIDLine is the longest line of an ids file that is read, in bytes
// without its line ending. An id is a path segment or a query value, far
// shorter than this; a longer line is a mistake in the file (a pasted
// blob, a file that is not a list of ids), reported with its number and
// skipped rather than buffered, so that it cannot stop the ids after it.
const MaxIDLine = 64 << 10

// idReadBuffer holds a line of MaxIDLine bytes with its "\r\n", so that
// any line within the limit comes back from the buffer in one piece.
const idReadBuffer = 256 << 10

// IDOfLine reads one line of an ids file: blank lines and '#' comments are
// skipped, and so is anything after the id on its line. A byte order mark
// (which editors on Windows put at the start of a file) is no part of an
// id.
func IDOfLine(line string) (string, bool) {
	id, ok := idOf([]byte(line))
	return string(id), ok
}

// idOf is IDOfLine without copying the line: a million-line file is read
// with one allocation per id, none per blank or comment line. Spaces are
// those of strings.Fields, so the two agree on what the id is.
func idOf(line []byte) ([]byte, bool) {
	line = bytes.TrimPrefix(line, []byte("\uFEFF"))
	if i := bytes.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimLeftFunc(line, unicode.IsSpace)
	if i := bytes.IndexFunc(line, unicode.IsSpace); i >= 0 {
		line = line[:i]
	}
	return line, len(line) > 0
}

// IDLine is a line of an ids file that holds an id, or that is too long to
// be read as one.
type IDLine struct {
	N  int    // line number, from 1
	ID string // the id; "" when the line is too long
	// Long is the length of a line over MaxIDLine (line ending excluded),
	// 0 for a line within it.
	Long int64
}

// Err says why the line cannot be crawled, or is nil: a line too long to
// read, or an id that tmpl cannot take. The crawl and CheckIDsFile both
// ask it, so that they agree on which lines are skipped.
func (l IDLine) Err(tmpl Template) error {
	if l.Long > 0 {
		return fmt.Errorf("%d bytes long, over the %d KiB limit for a line", l.Long, MaxIDLine>>10)
	}
	return tmpl.Check(l.ID)
}

// IDReader reads the lines of an ids file that hold an id, one at a time
// and whatever their length, never holding more than a buffer of the file.
type IDReader struct {
	r *bufio.Reader
	n int
}

// NewIDReader reads ids from r.
func NewIDReader(r io.Reader) *IDReader {
	return &IDReader{r: bufio.NewReaderSize(r, idReadBuffer)}
}

// Next returns the next line that holds an id or is over MaxIDLine,
// skipping blank lines and comments; io.EOF after the last. Any other
// error names the line it happened on.
func (ir *IDReader) Next() (IDLine, error) {
	for {
		line, err := ir.r.ReadSlice('\n')
		var long int64
		if err == bufio.ErrBufferFull {
			// The rest of the line is read past, never held: its length is
			// all that is reported.
			long = int64(len(line))
			var prev byte
			for err == bufio.ErrBufferFull {
				if len(line) > 0 {
					prev = line[len(line)-1]
				}
				line, err = ir.r.ReadSlice('\n')
				long += int64(len(line))
			}
			if bytes.HasSuffix(line, []byte("\n")) {
				long--
				if bytes.HasSuffix(line, []byte("\r\n")) || (len(line) == 1 && prev == '\r') {
					long--
				}
			}
			line = nil
		}
		if err != nil && err != io.EOF {
			return IDLine{}, fmt.Errorf("line %d: %w", ir.n+1, err)
		}
		if long == 0 && len(line) == 0 {
			return IDLine{}, io.EOF // nothing after the last line ending
		}
		ir.n++
		if long > 0 {
			return IDLine{N: ir.n, Long: long}, nil
		}
		if n := len(line) - lineEnding(line); n > MaxIDLine {
			return IDLine{N: ir.n, Long: int64(n)}, nil
		}
		if id, ok := idOf(line); ok {
			return IDLine{N: ir.n, ID: string(id)}, nil
		}
		if err == io.EOF {
			return IDLine{}, io.EOF
		}
	}
}

// lineEnding is the length of the "\n" or "\r\n" that ends line.
func lineEnding(line []byte) int {
	switch {
	case bytes.HasSuffix(line, []byte("\r\n")):
		return 2
	case bytes.HasSuffix(line, []byte("\n")):
		return 1
	}
	return 0
}

// hasID reads ids_file up to its first id, so that a file that cannot be
// read, or holds none, is a config error before any request is sent. A
// line over MaxIDLine counts as one: the file is not empty, and the line
// is reported where it is read.
func hasID(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("cannot read %s: %v", path, unwrapPathError(err))
	}
	defer f.Close()
	_, err = NewIDReader(f).Next()
	switch {
	case err == io.EOF:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("cannot read %s: %v", path, err)
	}
	return true, nil
}

// badLinesNamed is how many bad lines of an ids file CheckIDsFile names
// one by one; past them it counts.
const badLinesNamed = 10

// CheckIDsFile reads the whole of ids_file, streaming, and reports each
// line a crawl would skip — one over MaxIDLine, or an id the template
// cannot take — by its number, the first few one by one and then how many
// in all. It returns how many ids a crawl would fetch. Validate reads only
// up to the first id, because every command that loads the config passes
// through it; gather validate calls this too.
func (c *Config) CheckIDsFile() (int64, error) {
	const key = "crawl.start.ids_file"
	st := c.Crawl.Start
	if st.IDsFile == "" {
		return 0, nil
	}
	p := &problems{file: c.File}
	tmpl, err := ParseTemplate(st.URLTemplate)
	if err != nil {
		p.add("crawl.start.url_template", "%v", err)
		return 0, p.err()
	}
	f, err := os.Open(st.IDsFile)
	if err != nil {
		p.add(key, "cannot read %s: %v", st.IDsFile, unwrapPathError(err))
		return 0, p.err()
	}
	defer f.Close()
	r := NewIDReader(f)
	var ids, bad int64
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			p.add(key, "cannot read %s: %v", st.IDsFile, err)
			return ids, p.err()
		}
		if err := l.Err(tmpl); err != nil {
			if bad++; bad <= badLinesNamed {
				p.add(key, "%s line %d: %v", st.IDsFile, l.N, err)
			}
			continue
		}
		ids++
	}
	if bad > 0 {
		p.add(key, "%s: %d bad %s in all, which a crawl skips (it crawls the %d good ids)",
			st.IDsFile, bad, map[bool]string{true: "line", false: "lines"}[bad == 1], ids)
	}
	return ids, p.err()
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
