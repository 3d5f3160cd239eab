package archive

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gather-crawler/gather/internal/browsertest"
)

// ReplayWeb.page (webrecorder's replay app: wabac.js in a service worker,
// from the npm package replaywebpage) replays the archive in Chromium.
// .ci/run unpacks the package and sets the variable.
const replayDirEnv = "GATHER_REPLAYWEBPAGE_DIR" // holds index.html, ui.js, sw.js

// The pages of the test site, archived, then the site shut down: each
// page replays from the WARC alone with the text the site served.
func TestReplayWebPage_ReplaysTheArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium; skipped under -short")
	}
	app := os.Getenv(replayDirEnv)
	if app == "" {
		if os.Getenv(warcioRequireEnv) != "" {
			t.Fatalf("%s is not set (%s is)", replayDirEnv, warcioRequireEnv)
		}
		t.Skipf("%s is not set: unpack the npm package replaywebpage and point it at the directory", replayDirEnv)
	}
	if _, err := os.Stat(filepath.Join(app, "sw.js")); err != nil {
		t.Fatalf("%s: %v", replayDirEnv, err)
	}
	exe, err := browsertest.Chromium()
	if err != nil {
		browsertest.SkipWithout(t, "no Chromium: %v", err)
	}

	srv := newSite(t)
	w := newTestWriter(t, Options{})
	client := noRedirects()
	pages := []string{"/page", "/gzip", "/latin1", "/chunked"}
	for _, p := range pages {
		if _, err := w.Write(get(t, client, srv.URL+p)); err != nil {
			t.Fatal(err)
		}
	}
	// The gzip page again, fetched with its encoding kept: stored as sent.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/gzip?kept", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if _, err := w.Write(fetch(t, client, req)); err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "/gzip?kept")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := Files(w.Dir())
	site := srv.URL
	srv.Close() // from here on, only the archive has the pages

	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(app)))
	mux.HandleFunc("/archive.warc.gz", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, files[0])
	})
	replay := httptest.NewServer(mux)
	defer replay.Close()

	b := browsertest.Start(t, exe)
	want := map[string]string{
		"/page":      "ünïcödé",
		"/gzip":      "compressible text, compressible text",
		"/latin1":    "naïve",
		"/chunked":   "chunk 4",
		"/gzip?kept": "compressible text, compressible text",
	}
	for _, p := range pages {
		target := site + p
		u := replay.URL + "/?source=" + url.QueryEscape(replay.URL+"/archive.warc.gz") +
			"#view=replay&url=" + url.QueryEscape(target)
		var got string
		err := b.Run(15*time.Second, chromedp.Navigate("about:blank"), chromedp.Navigate(u))
		if err == nil {
			ctx, cancel := context.WithTimeout(b.Context(), 60*time.Second)
			got, err = chromedp.Run(ctx, chromedp.PollFunction[string](replayedText,
				chromedp.WithPollingArgs("mp_/"+target), chromedp.WithPollingInterval(200*time.Millisecond)))
			cancel()
		}
		if err != nil {
			t.Errorf("%s: replay did not show the page: %v (last seen %q)", p, err, got)
			continue
		}
		if !strings.Contains(got, want[p]) {
			t.Errorf("%s replayed as %q, want it to contain %q", p, got, want[p])
		}
		t.Logf("%s replayed: %.80q", p, got)
	}
}

// replayedText finds, through shadow roots and same-origin frames, the
// frame ReplayWeb.page replays the page in (its URL ends with "mp_/" and
// the archived URL) and returns its text once it has any.
const replayedText = `(suffix) => {
  function* docs(root) {
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) yield* docs(el.shadowRoot);
      if (el.tagName === "IFRAME") {
        let d = null;
        try { d = el.contentDocument; } catch (e) {}
        if (d) { yield d; yield* docs(d); }
      }
    }
  }
  for (const d of docs(document)) {
    if (d.location.href.endsWith(suffix) && d.body && d.body.innerText.trim()) {
      return d.body.innerText;
    }
  }
  return false;
}`
