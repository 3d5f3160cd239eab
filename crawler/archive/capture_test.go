package archive

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// A client whose transport is a Capture archives what it fetched: both
// hops of a redirect, a gzip page as Go decoded it, and a body left
// half-read as truncated.
func TestCapture_RecordsWhatTheClientFetched(t *testing.T) {
	srv := newSite(t)
	w := newTestWriter(t, Options{})
	var mu sync.Mutex
	written := map[string]Written{}
	client := &http.Client{Transport: &Capture{Done: func(ex *Exchange) {
		wr, err := w.Write(ex)
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		written[strings.TrimPrefix(ex.URL, srv.URL)] = wr
		mu.Unlock()
	}}}
	for _, p := range []string{"/redirect", "/gzip", "/chunked"} {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	resp, err := client.Get(srv.URL + "/binary.png")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadFull(resp.Body, make([]byte, 100))
	resp.Body.Close()

	read := func(p string) *Record {
		t.Helper()
		wr, ok := written[p]
		if !ok {
			t.Fatalf("%s was not captured; captured %v", p, written)
		}
		rec, err := ReadAt(w.Dir(), wr.Response)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	if r := read("/redirect"); r.StatusCode != http.StatusFound {
		t.Errorf("redirect hop: %d", r.StatusCode)
	}
	if r := read("/page?from=redirect"); r.StatusCode != http.StatusOK || !strings.Contains(string(r.Body), "ünïcödé") {
		t.Errorf("redirect target: %d %q", r.StatusCode, r.Body)
	}
	if r := read("/gzip"); string(r.Body) != gzipHTML || r.Header.Get(OrigHeaderPrefix+"Content-Encoding") != "gzip" {
		t.Errorf("gzip: %d bytes, %v", len(r.Body), r.Header)
	}
	if r := read("/chunked"); !strings.HasSuffix(string(r.Body), "chunk 4\n") || r.Truncated != "" {
		t.Errorf("chunked: %q truncated %q", r.Body, r.Truncated)
	}
	if r := read("/binary.png"); r.Truncated != "length" || len(r.Body) < 100 || len(r.Body) >= len(binaryBody) {
		t.Errorf("half-read body: truncated %q, %d bytes", r.Truncated, len(r.Body))
	}
}
