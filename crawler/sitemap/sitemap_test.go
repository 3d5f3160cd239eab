package sitemap

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The protocol's limits: a sitemap stops at 50,000 URLs and at its size
// limit, with an error that says so, after handing over what came before.
func TestDecode_Limits(t *testing.T) {
	var b strings.Builder
	b.WriteString("<urlset>")
	for i := 0; i <= MaxURLs; i++ {
		fmt.Fprintf(&b, "<url><loc>http://x/%d</loc></url>", i)
	}
	b.WriteString("</urlset>")
	got := 0
	n, err := Decode(strings.NewReader(b.String()), func(bool, Entry) error { got++; return nil })
	if !errors.Is(err, ErrFull) || n != MaxURLs || got != MaxURLs {
		t.Errorf("50,001 URLs: %d read, %d handed over, err %v", n, got, err)
	}

	body := &limitedReader{r: strings.NewReader(b.String()), left: 1000}
	got = 0
	_, err = Decode(body, func(bool, Entry) error { got++; return nil })
	if !errors.Is(err, ErrTooLarge) || got == 0 || got > 1000/30 {
		t.Errorf("past the size limit: %d handed over, err %v", got, err)
	}

	for doc, want := range map[string]string{
		`<rss><channel/></rss>`:        "the root element is <rss>",
		``:                             "no <urlset> or <sitemapindex>",
		`<urlset><url><loc>x</loc></u`: "malformed XML",
	} {
		if _, err := Decode(strings.NewReader(doc), func(bool, Entry) error { return nil }); err == nil || !strings.Contains(err.Error(), want) {
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

// An error of the caller's stops decoding and comes back as it is: it is
// no fault of the sitemap's.
func TestDecode_CallersErrorComesBackAsItIs(t *testing.T) {
	stop := errors.New("the writer failed")
	got := 0
	n, err := Decode(strings.NewReader(`<urlset><url><loc>http://h/a</loc></url><url><loc>http://h/b</loc></url></urlset>`),
		func(bool, Entry) error { got++; return stop })
	if err != stop || n != 1 || got != 1 {
		t.Errorf("%d read, %d handed over, err %v; want 1, 1, the caller's error itself", n, got, err)
	}
}
