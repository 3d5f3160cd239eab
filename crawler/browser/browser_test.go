package browser_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler/browser"
	"github.com/gather-crawler/gather/internal/browsertest"
)

// newBrowser starts the package's browser on the test's Chromium, with
// nothing but 127.0.0.1 resolvable, and stops it when the test ends.
func newBrowser(t *testing.T, opts browser.Options) *browser.Browser {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	exe, err := browsertest.Chromium()
	if err != nil {
		browsertest.SkipWithout(t, "no Chromium: %v", err)
	}
	opts.Exec = exe
	opts.Flags = map[string]any{"host-resolver-rules": "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"}
	if opts.PageTimeout == 0 {
		opts.PageTimeout = 10 * time.Second
	}
	b, err := browser.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

const spa = `<!DOCTYPE html><html><body><div id="app"></div><script>
fetch('/data').then(r => r.json()).then(d => {
  document.getElementById('app').innerHTML = '<p class="name">' + d.name + '</p>';
});
</script></body></html>`

func spaServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, spa) })
	mux.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"name":"Ada"}`) })
	mux.HandleFunc("/leak", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><img src="http://127.0.0.2:9/x.png"><p id="done">hi</p></body></html>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowser_LoadRendersScriptContent(t *testing.T) {
	srv := spaServer(t)
	b := newBrowser(t, browser.Options{})
	for _, wait := range []string{"p.name", ""} {
		p, err := b.Load(context.Background(), srv.URL+"/page", wait)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != 200 || !strings.Contains(string(p.HTML), `<p class="name">Ada</p>`) {
			t.Errorf("wait_for %q: status %d, DOM %s", wait, p.Status, p.HTML)
		}
	}
}

func TestBrowser_GuardBlocksSubRequests(t *testing.T) {
	srv := spaServer(t)
	b := newBrowser(t, browser.Options{Allow: func(u *url.URL) error {
		if u.Host != strings.TrimPrefix(srv.URL, "http://") {
			return errors.New("outside allowed_domains")
		}
		return nil
	}})
	p, err := b.Load(context.Background(), srv.URL+"/leak", "#done")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Blocked) != 1 || !strings.Contains(p.Blocked[0], "127.0.0.2") {
		t.Errorf("blocked %q, want the image on 127.0.0.2", p.Blocked)
	}
	_, err = b.Load(context.Background(), "http://127.0.0.3:9/", "")
	if !errors.Is(err, browser.ErrBlocked) {
		t.Errorf("navigation outside: %v, want ErrBlocked", err)
	}
}

func TestBrowser_RecyclesAndSurvivesACrash(t *testing.T) {
	srv := spaServer(t)
	b := newBrowser(t, browser.Options{Tabs: 2, RecycleAfter: 3})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 4 {
				if pid := b.PID(); pid > 0 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			p, err := b.Load(context.Background(), srv.URL+"/page", "p.name")
			if err == nil && !strings.Contains(string(p.HTML), "Ada") {
				err = fmt.Errorf("page %d without its content", i)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if st := b.Stats(); st.Pages != 8 || st.Starts < 3 {
		t.Errorf("stats %+v: want 8 pages over at least 3 browsers (recycled every 3)", st)
	}
}

// A page that times out in the browser's first tab (the one Chromium
// starts with, which the pool uses first) closes that tab, not the
// browser: the next pages load in a new tab of the same browser, and
// Close leaves no Chromium running.
func TestBrowser_TimeoutInTheFirstTab(t *testing.T) {
	srv := spaServer(t)
	hang := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(hang) })
	// The timeout is each page's: 1 s was too short for a new tab on a
	// busy machine; the point is which tab and browser the pages after it
	// use.
	b := newBrowser(t, browser.Options{Tabs: 1, PageTimeout: 3 * time.Second})
	if _, err := b.Load(context.Background(), hung.URL+"/", ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a page that never comes: %v, want a timeout", err)
	}
	pid := b.PID()
	for i := range 2 {
		p, err := b.Load(context.Background(), srv.URL+"/page", "p.name")
		if err != nil || !strings.Contains(string(p.HTML), "Ada") {
			t.Fatalf("page %d after the timeout: %v", i, err)
		}
	}
	if st := b.Stats(); st.Starts != 1 || b.PID() != pid {
		t.Errorf("stats %+v, pid %d then %d: the timeout cost the browser", st, pid, b.PID())
	}
	b.Close()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("Chromium %d still there after Close (%v)", pid, err)
	}
}
