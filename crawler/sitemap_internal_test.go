package crawler

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The protocol's limits: a sitemap stops at 50,000 URLs and at its size
// limit, with an error that says so, after handing over what came before.
func TestDecodeSitemap_Limits(t *testing.T) {
	var b strings.Builder
	b.WriteString("<urlset>")
	for i := 0; i <= sitemapMaxURLs; i++ {
		fmt.Fprintf(&b, "<url><loc>http://x/%d</loc></url>", i)
	}
	b.WriteString("</urlset>")
	got := 0
	n, err := decodeSitemap(strings.NewReader(b.String()), func(bool, sitemapURL) error { got++; return nil })
	if !errors.Is(err, errSitemapFull) || n != sitemapMaxURLs || got != sitemapMaxURLs {
		t.Errorf("50,001 URLs: %d read, %d handed over, err %v", n, got, err)
	}

	body := &limitedReader{r: strings.NewReader(b.String()), left: 1000}
	got = 0
	_, err = decodeSitemap(body, func(bool, sitemapURL) error { got++; return nil })
	if !errors.Is(err, errSitemapTooLarge) || got == 0 || got > 1000/30 {
		t.Errorf("past the size limit: %d handed over, err %v", got, err)
	}

	for doc, want := range map[string]string{
		`<rss><channel/></rss>`:        "the root element is <rss>",
		``:                             "no <urlset> or <sitemapindex>",
		`<urlset><url><loc>x</loc></u`: "malformed XML",
	} {
		if _, err := decodeSitemap(strings.NewReader(doc), func(bool, sitemapURL) error { return nil }); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", doc, err, want)
		}
	}
}

func TestParseLastmod(t *testing.T) {
	for s, want := range map[string]time.Time{
		"2026-11-30":             time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC),
		" 2026-11-30T10:00:00Z ": time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC),
		"2026-11-30T10:00+01:00": time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
		"2026-11-30T10:00:00.5Z": time.Date(2026, 11, 30, 10, 0, 0, 5e8, time.UTC),
		"yesterday":              {},
	} {
		if got := parseLastmod(s); !got.Equal(want) {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
}
