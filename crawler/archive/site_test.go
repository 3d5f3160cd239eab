package archive

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The test site: real HTTP exchanges on 127.0.0.1 of the kinds a crawl
// archives — plain HTML, a gzip body, a chunked body, a body in a legacy
// charset, a redirect, binary, a large page, a 404.
var (
	pageHTML   = "<!doctype html><html><head><title>Café</title></head><body><h1>Hello</h1><p>ünïcödé</p></body></html>"
	latin1HTML = []byte("<html><head><title>Caf\xe9</title></head><body>na\xefve</body></html>")
	binaryBody = func() []byte {
		b := make([]byte, 70_000)
		rand.New(rand.NewSource(1)).Read(b)
		return b
	}()
	gzipHTML = strings.Repeat("<p>compressible text, compressible text</p>\n", 400)
)

func newSite(t testing.TB) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Add("Set-Cookie", "a=1; Path=/")
		w.Header().Add("Set-Cookie", "b=2; Path=/")
		io.WriteString(w, pageHTML)
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			io.WriteString(w, gzipHTML)
			return
		}
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		io.WriteString(zw, gzipHTML)
		zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", fmt.Sprint(b.Len()))
		w.Write(b.Bytes())
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for i := 0; i < 5; i++ {
			fmt.Fprintf(w, "chunk %d\n", i)
			w.(http.Flusher).Flush() // no Content-Length: chunked
		}
	})
	mux.HandleFunc("/latin1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.Write(latin1HTML)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/page?from=redirect", http.StatusFound)
	})
	mux.HandleFunc("/binary.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Length", fmt.Sprint(len(binaryBody)))
		w.Write(binaryBody)
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not here", http.StatusNotFound)
	})
	mux.HandleFunc("/movie/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, demoLikePage(r.URL.Path))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// demoLikePage is a page the size and shape of the demo site's movie
// pages (about 6 KB of HTML: a title, facts and a cast table).
func demoLikePage(path string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><html><head><meta charset=utf-8><title>Movie %s</title>"+
		"<link rel=stylesheet href=/style.css></head><body><header><nav><a href=/>Home</a> <a href=/movies>Movies</a></nav></header>"+
		"<main><h1 class=title>Movie %s</h1><ul class=facts><li>Year: 1999</li><li>Runtime: 136 min</li><li>Rating: 8.7</li></ul>"+
		"<p class=plot>A computer hacker learns from mysterious rebels about the true nature of his reality and his role in the war against its controllers.</p>"+
		"<table class=cast><tr><th>Actor</th><th>Character</th></tr>", path, path)
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "<tr><td><a href=/person/%d>Actor Number %d</a></td><td>Character %d</td></tr>", i*7919%10007, i, i)
	}
	b.WriteString("</table></main><footer>gather demo</footer></body></html>")
	return b.String()
}

// fetch does one real request and returns its exchange as a crawl would
// hand it to the archive: redirects are not followed (each hop is its own
// exchange).
func fetch(t testing.TB, client *http.Client, req *http.Request) *Exchange {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("fetch %s: %v", req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", req.URL, err)
	}
	ex := ExchangeFromResponse(resp, body, false)
	ex.Date = time.Now()
	return ex
}

func noRedirects() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func get(t testing.TB, client *http.Client, u string) *Exchange {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "gather-test/1.0")
	return fetch(t, client, req)
}

// sitePaths are the test site's pages; writeSite archives each once.
var sitePaths = []string{"/page", "/gzip", "/chunked", "/latin1", "/redirect", "/page?from=redirect", "/binary.png", "/missing"}

func writeSite(t testing.TB, w *Writer, srv *httptest.Server) map[string]Written {
	t.Helper()
	client := noRedirects()
	out := map[string]Written{}
	for _, p := range sitePaths {
		ex := get(t, client, srv.URL+p)
		wr, err := w.Write(ex)
		if err != nil {
			t.Fatalf("write %s: %v", p, err)
		}
		out[p] = wr
	}
	return out
}
