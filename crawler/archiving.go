package crawler

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/gather-crawler/gather/crawler/archive"
	"github.com/gather-crawler/gather/storage"
)

// archiver is a run's tap into the archive (config's archive): every
// exchange the HTTP transport carries, each redirect hop and robots.txt
// included, is written as WARC records as its body is closed, before the
// policy has looked at it; where a page's final response landed goes into
// the page's record, which indexes it in the same transaction.
type archiver struct {
	w    *archive.Writer
	fail func(error)

	mu sync.Mutex
	// latest are final responses whose page has not claimed them yet, by
	// URL: colly closes the body (and the exchange is written) before the
	// page's callback runs.
	latest map[string]storage.ArchiveRef
}

// openArchive starts r's archive when the config keeps one; Run and Work
// archive, try and seeding do not.
func (r *run) openArchive() error {
	cfg := r.c.cfg
	if !cfg.Archive.Enabled {
		return nil
	}
	// The fastest compression: the archive is written on the crawl's own
	// cores, and level 1 costs a fraction of the default's time for files
	// a little larger.
	w, err := archive.NewWriter(archive.Options{Dir: cfg.ArchiveDir(), MaxFileSize: int64(cfg.Archive.MaxFileSize),
		Software: "gather/" + Version, Job: cfg.Crawl.Name, GzipLevel: 1})
	if err != nil {
		return fmt.Errorf("archive.dir %s: %w", cfg.ArchiveDir(), err)
	}
	r.arch = &archiver{w: w, fail: r.fatal, latest: map[string]storage.ArchiveRef{}}
	// done writes the exchange before it returns and keeps no part of it.
	r.tr.Wrap(func(carrier http.RoundTripper) http.RoundTripper {
		return &archive.Capture{Next: carrier, Done: r.arch.done, ReuseBodies: true}
	})
	return nil
}

func (a *archiver) done(ex *archive.Exchange) {
	wr, err := a.w.Write(ex)
	if err != nil {
		// A full disk: the crawl stops cleanly; the page's record says it
		// has no archived response. The writer's errors say "archive:".
		a.fail(err)
		return
	}
	if ex.StatusCode >= 300 && ex.StatusCode < 400 {
		return // a hop: its page claims the response it ended at
	}
	if u, err := url.Parse(ex.URL); err == nil && u.Path == "/robots.txt" {
		return
	}
	ref := storage.ArchiveRef{File: wr.Response.File, Offset: wr.Response.Offset, Length: wr.Response.Length}
	a.mu.Lock()
	a.latest[ex.URL] = ref
	a.mu.Unlock()
}

// claim takes the location of the response that came from url, if the
// archive holds one; a nil archiver holds none.
func (a *archiver) claim(url string) *storage.ArchiveRef {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ref, ok := a.latest[url]
	if !ok {
		return nil
	}
	delete(a.latest, url)
	return &ref
}

// sync makes what was written durable: called before a transaction that
// may point into it commits.
func (a *archiver) sync() error {
	if a == nil {
		return nil
	}
	return a.w.Sync()
}

// close closes the current file and reports what the run archived.
func (a *archiver) close() (archive.Stats, error) {
	if a == nil {
		return archive.Stats{}, nil
	}
	return a.w.Stats(), a.w.Close()
}

// archiveDir is where r's archive writes ("" : none).
func (r *run) archiveDir() string {
	if r.arch == nil {
		return ""
	}
	return r.arch.w.Dir()
}
