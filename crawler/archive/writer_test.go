package archive

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func newTestWriter(t testing.TB, o Options) *Writer {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Software == "" {
		o.Software = "gather/test"
	}
	if o.Job == "" {
		o.Job = "archive-test"
	}
	w, err := NewWriter(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func sha1Digest(b []byte) string {
	s := sha1.Sum(b)
	return "sha1:" + base32.StdEncoding.EncodeToString(s[:])
}

// Every exchange of the test site comes back from its location with the
// status, headers and body the client received, and the request record
// says what the client sent.
func TestWriter_ReadAtGivesBackTheExchange(t *testing.T) {
	srv := newSite(t)
	w := newTestWriter(t, Options{})
	client := noRedirects()
	for _, p := range sitePaths {
		t.Run(p, func(t *testing.T) {
			ex := get(t, client, srv.URL+p)
			wr, err := w.Write(ex)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := ReadAt(w.Dir(), wr.Response)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Type != "response" || rec.URL != srv.URL+p {
				t.Errorf("record type %q url %q", rec.Type, rec.URL)
			}
			if rec.StatusCode != ex.StatusCode || rec.Status != ex.Status || rec.Proto != "HTTP/1.1" {
				t.Errorf("status %q %d %q, want %d %q", rec.Proto, rec.StatusCode, rec.Status, ex.StatusCode, ex.Status)
			}
			if !bytes.Equal(rec.Body, ex.Body) {
				t.Errorf("body %d bytes, want the %d received", len(rec.Body), len(ex.Body))
			}
			if got, want := rec.Header.Get("Content-Type"), ex.Header.Get("Content-Type"); got != want {
				t.Errorf("Content-Type %q, want %q", got, want)
			}
			if rec.PayloadDigest != sha1Digest(ex.Body) || wr.PayloadDigest != rec.PayloadDigest {
				t.Errorf("payload digest %q (written %q), want %q", rec.PayloadDigest, wr.PayloadDigest, sha1Digest(ex.Body))
			}
			if rec.ID != wr.ResponseID || !strings.HasPrefix(rec.ID, "urn:uuid:") {
				t.Errorf("record id %q, written %q", rec.ID, wr.ResponseID)
			}
			req, err := ReadAt(w.Dir(), wr.Request)
			if err != nil {
				t.Fatal(err)
			}
			if req.Type != "request" || len(req.ConcurrentTo) != 1 || req.ConcurrentTo[0] != rec.ID ||
				len(rec.ConcurrentTo) != 1 || rec.ConcurrentTo[0] != req.ID {
				t.Errorf("request %q concurrent to %v; response concurrent to %v", req.Type, req.ConcurrentTo, rec.ConcurrentTo)
			}
			if wr.Request.File != wr.Response.File || wr.Request.Offset+wr.Request.Length != wr.Response.Offset {
				t.Errorf("request %+v and response %+v are not adjacent members", wr.Request, wr.Response)
			}
		})
	}
}

// The shapes where what arrived differs from what the server wrote: the
// record says what the exchange was, and its headers fit the stored body.
func TestWriter_RecordsTransferAndContentDecoding(t *testing.T) {
	srv := newSite(t)
	w := newTestWriter(t, Options{})
	client := noRedirects()
	readBoth := func(t *testing.T, ex *Exchange) (req, resp *Record, raw string) {
		wr, err := w.Write(ex)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err = ReadAt(w.Dir(), wr.Response); err != nil {
			t.Fatal(err)
		}
		if req, err = ReadAt(w.Dir(), wr.Request); err != nil {
			t.Fatal(err)
		}
		return req, resp, rawRequest(t, w.Dir(), wr.Request)
	}

	t.Run("gzip decoded by Go's transport", func(t *testing.T) {
		ex := get(t, client, srv.URL+"/gzip")
		if !ex.ContentDecoded {
			t.Fatal("the transport did not decode: the test is not testing that case")
		}
		req, resp, raw := readBoth(t, ex)
		if string(resp.Body) != gzipHTML {
			t.Errorf("stored body is not the decoded page (%d bytes)", len(resp.Body))
		}
		if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get(OrigHeaderPrefix+"Content-Encoding") != "gzip" {
			t.Errorf("headers %v: want Content-Encoding renamed to %sContent-Encoding", resp.Header, OrigHeaderPrefix)
		}
		if resp.Header.Get("Content-Length") != fmt.Sprint(len(gzipHTML)) {
			t.Errorf("Content-Length %q, want the stored body's %d", resp.Header.Get("Content-Length"), len(gzipHTML))
		}
		if !strings.Contains(raw, "\r\nAccept-Encoding: gzip\r\n") || !strings.HasPrefix(raw, "GET /gzip HTTP/1.1\r\nHost: 127.0.0.1:") {
			t.Errorf("request record does not show what Go sent:\n%s", raw)
		}
		_ = req
	})

	t.Run("gzip kept as sent", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodGet, srv.URL+"/gzip", nil)
		r.Header.Set("Accept-Encoding", "gzip") // the transport then leaves the body alone
		ex := fetch(t, client, r)
		if ex.ContentDecoded {
			t.Fatal("the transport decoded")
		}
		_, resp, _ := readBoth(t, ex)
		if resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(resp.Body, ex.Body) {
			t.Errorf("the encoded body was not stored as sent: %v", resp.Header)
		}
		body, err := resp.ContentBody()
		if err != nil || string(body) != gzipHTML {
			t.Errorf("ContentBody: %d bytes, %v", len(body), err)
		}
	})

	t.Run("chunked", func(t *testing.T) {
		ex := get(t, client, srv.URL+"/chunked")
		if len(ex.TransferEncoding) == 0 {
			t.Fatal("the response was not chunked")
		}
		_, resp, _ := readBoth(t, ex)
		want := "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n"
		if string(resp.Body) != want {
			t.Errorf("body %q", resp.Body)
		}
		if resp.Header.Get(OrigHeaderPrefix+"Transfer-Encoding") != "chunked" || resp.Header.Get("Content-Length") != fmt.Sprint(len(want)) {
			t.Errorf("headers %v", resp.Header)
		}
	})

	t.Run("non-UTF-8 bytes kept", func(t *testing.T) {
		ex := get(t, client, srv.URL+"/latin1")
		_, resp, _ := readBoth(t, ex)
		if !bytes.Equal(resp.Body, latin1HTML) || resp.Header.Get("Content-Type") != "text/html; charset=iso-8859-1" {
			t.Errorf("body %q, headers %v", resp.Body, resp.Header)
		}
	})

	t.Run("redirect", func(t *testing.T) {
		ex := get(t, client, srv.URL+"/redirect")
		_, resp, _ := readBoth(t, ex)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/page?from=redirect" {
			t.Errorf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("repeated headers", func(t *testing.T) {
		ex := get(t, client, srv.URL+"/page")
		_, resp, _ := readBoth(t, ex)
		if got := resp.Header.Values("Set-Cookie"); len(got) != 2 {
			t.Errorf("Set-Cookie %q, want both", got)
		}
	})

	t.Run("truncated by a size cap", func(t *testing.T) {
		ex := get(t, client, srv.URL+"/binary.png")
		ex.Body = ex.Body[:1000]
		ex.Truncated = "length"
		_, resp, _ := readBoth(t, ex)
		if resp.Truncated != "length" || len(resp.Body) != 1000 ||
			resp.Header.Get("Content-Length") != "1000" || resp.Header.Get(OrigHeaderPrefix+"Content-Length") != fmt.Sprint(len(binaryBody)) {
			t.Errorf("truncated %q, %d bytes, headers %v", resp.Truncated, len(resp.Body), resp.Header)
		}
	})
}

// rawRequest is the request record's block, as the file holds it.
func rawRequest(t *testing.T, dir string, loc Location) string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, loc.File))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(io.NewSectionReader(f, loc.Offset, loc.Length))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), "\r\n\r\n")
	if !ok {
		t.Fatalf("no end of WARC headers in %q", b)
	}
	return block
}

// A rendered DOM goes into a resource record of its own URN beside the
// response, the three records naming each other.
func TestWriter_RenderedDOM(t *testing.T) {
	srv := newSite(t)
	w := newTestWriter(t, Options{})
	ex := get(t, noRedirects(), srv.URL+"/page")
	ex.Rendered = []byte("<html><body><h1>Hello</h1><div id=late>added by script</div></body></html>")
	wr, err := w.Write(ex)
	if err != nil {
		t.Fatal(err)
	}
	dom, err := ReadAt(w.Dir(), wr.Rendered)
	if err != nil {
		t.Fatal(err)
	}
	if dom.Type != "resource" || dom.URL != RenderedURIPrefix+srv.URL+"/page" || !bytes.Equal(dom.Body, ex.Rendered) ||
		!strings.HasPrefix(dom.ContentType, "text/html") {
		t.Errorf("rendered record %q %q %q %q", dom.Type, dom.URL, dom.ContentType, dom.Body)
	}
	if len(dom.ConcurrentTo) != 2 || !contains(dom.ConcurrentTo, wr.ResponseID) {
		t.Errorf("rendered record concurrent to %v, response %s", dom.ConcurrentTo, wr.ResponseID)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Files are rotated at the size limit; every file starts with a warcinfo
// record naming the software and the job; names never repeat.
func TestWriter_RotatesWithWarcinfo(t *testing.T) {
	srv := newSite(t)
	w := newTestWriter(t, Options{MaxFileSize: 20_000, Software: "gather/v9.9.9", Job: "movies"})
	var locs []Written
	for i := 0; i < 4; i++ {
		for _, wr := range writeSite(t, w, srv) {
			locs = append(locs, wr)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := Files(w.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 || w.Stats().Files != len(files) {
		t.Fatalf("%d files (stats say %d), want rotation to make several", len(files), w.Stats().Files)
	}
	var total int64
	for _, f := range files {
		info, _ := os.Stat(f)
		total += info.Size()
		// One exchange may take a file past the limit; the binary page alone
		// is about 70 KB.
		var first *Record
		n := 0
		for e, err := range ScanAll(f) {
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if n == 0 {
				first = e.Record
			}
			n++
		}
		if first == nil || first.Type != "warcinfo" {
			t.Fatalf("%s does not start with warcinfo", f)
		}
		info2 := string(first.Body)
		for _, want := range []string{"software: gather/v9.9.9\r\n", "isPartOf: movies\r\n", "format: WARC File Format 1.1\r\n"} {
			if !strings.Contains(info2, want) {
				t.Errorf("%s: warcinfo lacks %q:\n%s", filepath.Base(f), want, info2)
			}
		}
		base := filepath.Base(f)
		if !strings.HasPrefix(base, "gather-") || !strings.Contains(base, fmt.Sprintf("-%d.warc.gz", os.Getpid())) {
			t.Errorf("file name %s lacks prefix or pid", base)
		}
	}
	if total != w.Stats().Bytes {
		t.Errorf("files hold %d bytes, stats say %d", total, w.Stats().Bytes)
	}
	r := NewReader(w.Dir())
	defer r.Close()
	for _, wr := range locs {
		if _, err := r.Read(wr.Response); err != nil {
			t.Errorf("read %+v: %v", wr.Response, err)
		}
	}
}

// Many fetch goroutines write at once; every location returned reads back
// as the exchange written there, and the files hold nothing else.
func TestWriter_ConcurrentWrites(t *testing.T) {
	srv := newSite(t)
	w := newTestWriter(t, Options{MaxFileSize: 200_000})
	const goroutines, each = 8, 40
	client := &http.Client{}
	type result struct {
		url string
		wr  Written
	}
	results := make(chan result, goroutines*each)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				u := fmt.Sprintf("%s/movie/%d-%d", srv.URL, g, i)
				resp, err := client.Get(u)
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					errs <- err
					return
				}
				wr, err := w.Write(ExchangeFromResponse(resp, body, false))
				if err != nil {
					errs <- err
					return
				}
				results <- result{u, wr}
			}
		}()
	}
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r := NewReader(w.Dir())
	defer r.Close()
	seen := map[string]bool{}
	for res := range results {
		rec, err := r.Read(res.wr.Response)
		if err != nil {
			t.Fatalf("%s: %v", res.url, err)
		}
		if rec.URL != res.url || !strings.Contains(string(rec.Body), "<title>Movie "+strings.TrimPrefix(res.url, srv.URL)+"</title>") {
			t.Fatalf("%+v holds %s, want %s", res.wr.Response, rec.URL, res.url)
		}
		seen[res.url] = true
	}
	if len(seen) != goroutines*each {
		t.Fatalf("%d distinct exchanges read back, want %d", len(seen), goroutines*each)
	}
	n := 0
	for _, err := range Scan(w.Dir()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != goroutines*each {
		t.Errorf("scan found %d responses, want %d", n, goroutines*each)
	}
}

func TestWriter_BadInputAndClose(t *testing.T) {
	w := newTestWriter(t, Options{})
	if _, err := w.Write(&Exchange{URL: "/relative", StatusCode: 200}); err == nil {
		t.Error("a relative URL was archived")
	}
	if _, err := NewWriter(Options{Dir: t.TempDir(), MaxFileSize: -1}); err == nil {
		t.Error("a negative max file size was accepted")
	}
	if _, err := NewWriter(Options{}); err == nil {
		t.Error("no directory was accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(&Exchange{URL: "http://127.0.0.1/", StatusCode: 200}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if files, _ := Files(w.Dir()); len(files) != 0 {
		t.Errorf("a writer that wrote nothing left %v", files)
	}
}
