// Package sitemap reads the sitemaps protocol (sitemaps.org): a <urlset>
// or <sitemapindex>, gzipped or not, streamed entry by entry so that a
// 50,000-URL sitemap is never held whole, within the protocol's limits.
// Fetching sitemaps and feeding their pages to a run is the crawler's.
package sitemap

import (
	"bufio"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/net/html/charset"
)

// The sitemaps protocol's limits, per file: 50,000 URLs (or sitemaps, in an
// index) and 50 MB uncompressed.
const (
	MaxURLs  = 50_000
	MaxBytes = 50 << 20
	// MaxFiles bounds the sitemaps read in one run, indexes of indexes
	// included.
	MaxFiles = 10_000
)

// Entry is one page a sitemap lists, or one sitemap an index lists.
type Entry struct {
	Loc     string
	Lastmod time.Time // zero when not given or not a date
}

// ErrFull stops a sitemap at the protocol's URL limit.
var ErrFull = fmt.Errorf("more than %d URLs (the sitemaps protocol's limit): the rest were ignored", MaxURLs)

// Body returns the sitemap's XML, gunzipped when it is gzipped (by
// its bytes, whatever the name or type say), cut at the size limit.
func Body(body io.Reader) (io.Reader, error) {
	br := bufio.NewReader(body)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("bad gzip: %v", err)
		}
		return &limitedReader{r: zr, left: MaxBytes}, nil
	}
	return &limitedReader{r: br, left: MaxBytes}, nil
}

// ErrTooLarge is a sitemap over the protocol's size limit.
var ErrTooLarge = fmt.Errorf("larger than %d MB uncompressed (the sitemaps protocol's limit): the rest was ignored", MaxBytes>>20)

// limitedReader fails, rather than ends, past its limit: a truncated
// sitemap must not read as a complete one.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// Decode streams a <urlset> or <sitemapindex>, calling entry for each
// <url> or <sitemap> with a <loc>, and returns how many it read. An error
// entry returns stops it and is returned as it is; any other error says
// what is wrong with the document.
func Decode(body io.Reader, entry func(isIndex bool, e Entry) error) (int, error) {
	d := xml.NewDecoder(body)
	d.CharsetReader = charset.NewReaderLabel
	var root string
	n := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if root == "" {
				return n, errors.New("malformed: no <urlset> or <sitemapindex> element")
			}
			return n, nil
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return n, err
			}
			return n, fmt.Errorf("malformed XML: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root == "" {
			root = se.Name.Local
			if root != "urlset" && root != "sitemapindex" {
				return n, fmt.Errorf("malformed: the root element is <%s>, not <urlset> or <sitemapindex>", root)
			}
			continue
		}
		want := "url"
		if root == "sitemapindex" {
			want = "sitemap"
		}
		if se.Name.Local != want {
			if err := d.Skip(); err != nil {
				return n, fmt.Errorf("malformed XML: %v", err)
			}
			continue
		}
		var e struct {
			Loc     string `xml:"loc"`
			Lastmod string `xml:"lastmod"`
		}
		if err := d.DecodeElement(&e, &se); err != nil {
			if errors.Is(err, ErrTooLarge) {
				return n, err
			}
			return n, fmt.Errorf("malformed XML: %v", err)
		}
		loc := strings.TrimSpace(e.Loc)
		if loc == "" {
			continue
		}
		if n == MaxURLs {
			return n, ErrFull
		}
		n++
		if err := entry(root == "sitemapindex", Entry{Loc: loc, Lastmod: parseLastmod(e.Lastmod)}); err != nil {
			return n, err
		}
	}
}

// parseLastmod reads a W3C datetime (a date, or a date and time with a
// zone); anything else is no date.
func parseLastmod(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
