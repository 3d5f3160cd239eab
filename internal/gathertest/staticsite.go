package gathertest

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gather-crawler/gather/internal/browsertest"
)

// PyDocs is the Python documentation as Debian's python3-doc installs it:
// 530 Sphinx pages nobody here wrote.
const PyDocs = "/usr/share/doc/python3-doc/html"

// NeedPyDocs skips tb when the corpus is not installed, unless CI says it
// must be there (browsertest.RequireEnv): then it fails.
func NeedPyDocs(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(PyDocs, "index.html")); err != nil {
		if os.Getenv(browsertest.RequireEnv) != "" {
			tb.Fatalf("the Python documentation corpus is missing (apt-get install python3-doc): %v", err)
		}
		tb.Skip("python3-doc is not installed (apt-get install python3-doc)")
	}
}

// StaticSite serves the files under a directory as a plain static web
// server (nginx, Python's http.server) does — a directory's index.html at
// its path, no redirects — and counts the requests per path: its log.
type StaticSite struct {
	*httptest.Server

	mu     sync.Mutex
	counts map[string]int
}

// ServeDir starts a StaticSite over dir on 127.0.0.1, closed with tb.
func ServeDir(tb testing.TB, dir string) *StaticSite {
	s := &StaticSite{counts: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[r.URL.Path]++
		s.mu.Unlock()
		name := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") {
			name += "/index.html"
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, name, st.ModTime(), f)
	}))
	tb.Cleanup(s.Close)
	return s
}

// Counts are the requests so far, per path.
func (s *StaticSite) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.counts)
}

// Requests counts the requests so far.
func (s *StaticSite) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}
