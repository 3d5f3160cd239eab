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

// NeedsBrowser reports whether the crawl starts a Chromium: crawl.fetch or
// an item's fetch is browser or auto.
func (c *Config) NeedsBrowser() bool {
	return c.Uses(FetchBrowser) || c.Uses(FetchAuto)
}

// Uses reports whether crawl.fetch or any item's fetch is mode.
func (c *Config) Uses(mode string) bool {
	if c.Crawl.Fetch == mode {
		return true
	}
	for _, it := range c.Items {
		if it.Fetch == mode {
			return true
		}
	}
	return false
}

// MoreCapable reports whether fetch mode a does more than b: browser
// renders every page, auto solves challenges, http does neither.
func MoreCapable(a, b string) bool { return fetchRank(a) > fetchRank(b) }

func fetchRank(mode string) int {
	switch mode {
	case FetchBrowser:
		return 2
	case FetchAuto:
		return 1
	}
	return 0
}

// DetectorHeader splits a Detector's Header into its name and the value
// it must have ("": any).
func DetectorHeader(h string) (name, value string) {
	name, value, _ = strings.Cut(h, ":")
	return strings.TrimSpace(name), strings.TrimSpace(value)
}

func checkFetchMode(p *problems, key, mode string) {
	switch mode {
	case "", FetchHTTP, FetchBrowser, FetchAuto: // "": a config built in code, or an item's default
	default:
		p.add(key, "%q is not http, browser or auto", mode)
	}
}

func (c *Config) validateFetch(p *problems) {
	cr := &c.Crawl
	b := cr.Browser
	checkFetchMode(p, "crawl.fetch", cr.Fetch)
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
	checkDetectors(p, "crawl.challenge", cr.Challenge)
	checkDetectors(p, "crawl.captcha", cr.Captcha)
	// Only browser mode cannot fetch a page without Chromium; auto fetches
	// over HTTP and needs it for a challenge only (validate says so).
	if !c.Uses(FetchBrowser) {
		return
	}
	if _, err := FindChromium(b.Path); err != nil {
		key := "crawl.fetch"
		switch {
		case b.Path != "":
			key = "crawl.browser.path"
		case cr.Fetch != FetchBrowser:
			for _, name := range c.ItemOrder {
				if c.Items[name].Fetch == FetchBrowser {
					key = "items." + name + ".fetch"
					break
				}
			}
		}
		p.add(key, "fetch: browser needs Chromium: %v; %s", err, ChromiumInstall)
	}
}

func checkDetectors(p *problems, key string, ds []Detector) {
	for i, d := range ds {
		k := fmt.Sprintf("%s[%d]", key, i)
		if d.Status == 0 && d.Header == "" && d.Selector == "" {
			p.add(k, "needs at least one of status, header, selector")
		}
		if d.Status != 0 && (d.Status < 100 || d.Status > 599) {
			p.add(k+".status", "%d is not an HTTP status", d.Status)
		}
		if d.Header != "" {
			if name, _ := DetectorHeader(d.Header); !httpToken(name) {
				p.add(k+".header", "%q is not \"Name\" or \"Name: value\"", d.Header)
			}
		}
		if d.Selector != "" {
			if _, err := cascadia.ParseGroup(d.Selector); err != nil {
				p.add(k+".selector", "invalid selector %q: %v", d.Selector, err)
			}
		}
	}
}
