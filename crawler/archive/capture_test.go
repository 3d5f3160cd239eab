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

// With ReuseBodies, the copies of bodies are reused from page to page:
// concurrent fetches of different pages, each written in its Done, are
// each archived with their own body, and a Read after Close appends to no
// other page's copy.
func TestCapture_ReuseBodiesKeepsEachPagesBody(t *testing.T) {
	srv := newSite(t)
	w := newTestWriter(t, Options{})
	var mu sync.Mutex
	written := map[string][]Written{}
	capture := &Capture{ReuseBodies: true, Done: func(ex *Exchange) {
		wr, err := w.Write(ex)
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		written[strings.TrimPrefix(ex.URL, srv.URL)] = append(written[strings.TrimPrefix(ex.URL, srv.URL)], wr)
		mu.Unlock()
	}}
	client := &http.Client{Transport: capture}
	paths := []string{"/page?from=redirect", "/chunked", "/binary.png", "/latin1", "/gzip"}
	want := map[string][]byte{}
	var wg sync.WaitGroup
	for i := range 40 {
		p := paths[i%len(paths)]
		wg.Go(func() {
			resp, err := client.Get(srv.URL + p)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Body.Read(make([]byte, 10)) // after Close: appends to nothing
			mu.Lock()
			want[p] = body
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, p := range paths {
		if len(written[p]) != 8 {
			t.Fatalf("%s archived %d times, want 8", p, len(written[p]))
		}
		for _, wr := range written[p] {
			rec, err := ReadAt(w.Dir(), wr.Response)
			if err != nil {
				t.Fatal(err)
			}
			if string(rec.Body) != string(want[p]) {
				t.Errorf("%s archived with %d bytes %.40q, want %d bytes %.40q", p, len(rec.Body), rec.Body, len(want[p]), want[p])
			}
		}
	}
}
