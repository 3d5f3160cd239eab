package config

import (
	"fmt"
	"os/exec"
	"strings"

	"github.com/andybalholm/cascadia"
)

// chromiumNames are the executables FindChromium looks for on PATH.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// ChromiumInstall says how to get a Chromium, for error messages.
const ChromiumInstall = "install it with `apt-get install chromium` (Debian, Ubuntu) or set crawl.browser.path"

// FindChromium returns the Chromium executable to use: path when set
// (looked up on PATH when it has no slash), else the first of chromium,
// chromium-browser, google-chrome, google-chrome-stable on PATH. Nothing
// is ever downloaded.
func FindChromium(path string) (string, error) {
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("%s is not an executable: %w", path, err)
		}
		return p, nil
	}
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found (none of %s on PATH)", strings.Join(chromiumNames, ", "))
}

// NeedsBrowser reports whether the crawl starts a Chromium.
func (c *Config) NeedsBrowser() bool {
	return c.Crawl.Fetch == FetchBrowser || c.Crawl.Fetch == FetchAuto
}

func (c *Config) validateFetch(p *problems) {
	cr := &c.Crawl
	b := cr.Browser
	switch cr.Fetch {
	case "", FetchHTTP, FetchBrowser, FetchAuto: // "": a config built in code
	default:
		p.add("crawl.fetch", "%q is not http, browser or auto", cr.Fetch)
	}
	if b.Tabs < 0 || b.Tabs > 64 {
		p.add("crawl.browser.tabs", "must be between 1 and 64 (0: the default, 2), got %d", b.Tabs)
	}
	if b.RecycleAfter < 0 {
		p.add("crawl.browser.recycle_after", "must not be negative (0: the default, 500), got %d", b.RecycleAfter)
	}
	if b.WaitFor != "" {
		if _, err := cascadia.ParseGroup(b.WaitFor); err != nil {
			p.add("crawl.browser.wait_for", "invalid selector %q: %v", b.WaitFor, err)
		}
	}
	if !c.NeedsBrowser() {
		return
	}
	if _, err := FindChromium(b.Path); err != nil {
		key := "crawl.fetch"
		if b.Path != "" {
			key = "crawl.browser.path"
		}
		p.add(key, "fetch: %s needs Chromium: %v; %s", cr.Fetch, err, ChromiumInstall)
	}
}
