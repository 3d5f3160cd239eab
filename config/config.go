// Package config holds gather's configuration as plain Go values: the YAML
// schema, its defaults, loading with a private viper instance, environment
// overrides and validation. It knows nothing of colly or SQLite, so the
// crawler and storage packages can be used as a library without YAML.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Config is a whole crawl job: where results go, what to fetch, what to
// extract and when to run again.
type Config struct {
	// File is the path the config was loaded from ("" when built in code).
	// Relative paths in the config are resolved against its directory.
	File string `mapstructure:"-"`

	// Database is the SQLite file; relative to the config file's directory.
	Database string `mapstructure:"database"`
	// Frontier, when set (redis:// or rediss://), is the Redis that the
	// workers of a scaled-out crawl share; "" : gather crawl's own.
	Frontier string `mapstructure:"frontier"`
	Crawl    Crawl  `mapstructure:"crawl"`
	// Items maps item names to their extraction rules; ItemOrder keeps the
	// order they were written in, which is the order tables are created in.
	Items     map[string]Item `mapstructure:"items"`
	ItemOrder []string        `mapstructure:"-"`
	Schedule  Schedule        `mapstructure:"schedule"`
	// Archive keeps the fetched responses as WARC files (archive.go).
	Archive Archive `mapstructure:"archive"`
}

// Crawl says what to fetch and how politely.
type Crawl struct {
	// Name is the job name recorded with every run; defaults to the config
	// file's base name without extension.
	Name  string `mapstructure:"name"`
	Start Start  `mapstructure:"start"`
	// AllowedDomains are the hosts requests and redirects may go to; empty
	// means the hosts of the start URLs.
	AllowedDomains []string `mapstructure:"allowed_domains"`
	// Parallelism is the number of requests in flight at most, per host.
	Parallelism int `mapstructure:"parallelism"`
	// Concurrency caps the pages in progress at once in the process,
	// whatever their hosts (each worker's own in a shared crawl): the
	// capacity of one machine, where parallelism is what a host is asked
	// to bear. 0: no cap but parallelism per host.
	Concurrency int `mapstructure:"concurrency"`
	// Delay is a pause after each request, per parallelism slot; 0: none.
	Delay time.Duration `mapstructure:"delay"`
	// RandomDelay adds up to this much extra pause; 0: none.
	RandomDelay time.Duration `mapstructure:"random_delay"`
	// Timeout bounds one request from connect to last byte.
	Timeout time.Duration `mapstructure:"timeout"`
	// Retries is the number of extra attempts for retryable failures; 0: none.
	Retries int `mapstructure:"retries"`
	// MaxBodySize fails larger responses as "response too large".
	MaxBodySize ByteSize `mapstructure:"max_body_size"`
	// ExtractTimeout bounds the extraction of one page, which Timeout does
	// not cover: a page that takes longer fails with that reason.
	ExtractTimeout time.Duration `mapstructure:"extract_timeout"`
	// MaxValueSize drops, with a warning on the page, a value larger than
	// this (a record's required or key field then drops the record).
	MaxValueSize ByteSize `mapstructure:"max_value_size"`
	// UserAgent defaults to "gather/VERSION" when empty.
	UserAgent string            `mapstructure:"user_agent"`
	Headers   map[string]string `mapstructure:"headers"`
	RobotsTxt bool              `mapstructure:"robots_txt"`
	// MaxDepth 1 crawls the start pages only; more follows links matched by
	// Follow up to that many pages deep, counting the start pages.
	// MaxDepthUnlimited (written max_depth: unlimited) has no limit.
	MaxDepth int      `mapstructure:"max_depth"`
	Follow   []Follow `mapstructure:"follow"`
	// Canonical rewrites start URLs and followed links alike.
	Canonical Canonical `mapstructure:"canonical"`
	// ContentTypes are the media types of responses that are extracted
	// (e.g. text/html, application/json, text/*); others are recorded as
	// skipped. Empty: HTML and XHTML, and JSON when an item reads JSON.
	ContentTypes []string `mapstructure:"content_types"`
	// RefreshAfter 0 means a page stored once is never fetched again, so a
	// re-run resumes; more means pages stored longer ago are fetched again.
	RefreshAfter time.Duration `mapstructure:"refresh_after"`
	// HubRefreshAfter, in a follow crawl, fetches the hub pages again — the
	// start pages (urls and ids; sitemaps are read every run anyway) and
	// pages a follow rule marks hub: true — once stored longer ago than
	// this, whatever RefreshAfter says, so that a re-run finds pages added
	// to the site without fetching every page again. 0: hubs are like any
	// page.
	HubRefreshAfter time.Duration `mapstructure:"hub_refresh_after"`
	// RetryFailedAfter is how long after a failure a later run tries the
	// page again; it doubles for each further run the page fails in (0:
	// the next run). RetryGoneAfter is the same for pages that answered
	// 404 or 410, which rarely come back. RetryFailedRuns gives up on a
	// page that failed in that many runs in a row (0: never).
	RetryFailedAfter time.Duration `mapstructure:"retry_failed_after"`
	RetryGoneAfter   time.Duration `mapstructure:"retry_gone_after"`
	RetryFailedRuns  int           `mapstructure:"retry_failed_runs"`
	// Fetch is how pages are fetched: FetchHTTP (default), FetchBrowser
	// (every page in a Chromium tab) or FetchAuto (HTTP, with a browser
	// solving JavaScript challenges once per host).
	Fetch   string  `mapstructure:"fetch"`
	Browser Browser `mapstructure:"browser"`
	// Challenge and Captcha add to the AWS WAF signs gather always knows
	// (x-amzn-waf-action: challenge, or captcha). A response that matches
	// one of Challenge is a JavaScript challenge: fetch: auto solves it in
	// the browser, other modes fail the page as one. A response that
	// matches one of Captcha fails as needing a person and pauses its host.
	Challenge []Detector `mapstructure:"challenge"`
	Captcha   []Detector `mapstructure:"captcha"`
	// Proxy is one proxy URL or a list (http://, https://, socks5://,
	// with USER:PASSWORD@ when it wants them) that every request goes
	// through; a list is spread sticky per host (docs/proxies.md). Empty:
	// the environment's HTTP_PROXY, HTTPS_PROXY and NO_PROXY.
	Proxy []string `mapstructure:"proxy"`
}

// MaxDepthUnlimited is crawl.max_depth: unlimited, a follow crawl bounded by
// crawl.allowed_domains alone. It is a depth no crawl reaches, so that
// the depth checks stay plain comparisons.
const MaxDepthUnlimited = 1<<31 - 1

// DepthString is max_depth as it is written in a config.
func DepthString(d int) string {
	if d == MaxDepthUnlimited {
		return "unlimited"
	}
	return strconv.Itoa(d)
}

// Detector tells a kind of response by what it looks like: every
// condition that is set must hold, and at least one is set.
type Detector struct {
	// Status is the HTTP status, e.g. 403; 0: any.
	Status int `mapstructure:"status"`
	// Header is a header the response must have: "Name" (any value) or
	// "Name: value" (that value, case-insensitively).
	Header string `mapstructure:"header"`
	// Selector is a CSS selector that must match in the body, read as
	// HTML (for a browser page: the rendered DOM).
	Selector string `mapstructure:"selector"`
}

// Fetch modes of Crawl.Fetch.
const (
	FetchHTTP    = "http"
	FetchBrowser = "browser"
	FetchAuto    = "auto"
)

// Browser configures the Chromium that fetch: browser and auto use.
type Browser struct {
	// Path is the Chromium (or Chrome) executable; empty: chromium,
	// chromium-browser, google-chrome or google-chrome-stable on PATH.
	Path string `mapstructure:"path"`
	// Tabs is the number of pages loaded at once, over all hosts (0: 2).
	Tabs int `mapstructure:"tabs"`
	// RecycleAfter restarts the browser after that many pages, which
	// keeps its memory flat on long crawls (0: 500).
	RecycleAfter int `mapstructure:"recycle_after"`
	// WaitFor is a CSS selector: a page is ready when it matches. Empty:
	// when the network has been idle for 500ms (at most crawl.timeout).
	WaitFor string `mapstructure:"wait_for"`
}

// Start lists the pages a crawl begins with.
type Start struct {
	URLs []string `mapstructure:"urls"`
	// URLTemplate is filled with each id in place of "{id}".
	URLTemplate string   `mapstructure:"url_template"`
	IDs         []string `mapstructure:"ids"`
	// IDsFile holds one id per line; blank lines and '#' comments are
	// ignored. It is streamed, never loaded whole.
	IDsFile string `mapstructure:"ids_file"`
	// Sitemaps are sitemaps (or sitemap indexes, gzipped or not) whose
	// pages are start pages; SitemapsFromRobots adds those the robots.txt
	// of each start host lists.
	Sitemaps           []string `mapstructure:"sitemaps"`
	SitemapsFromRobots bool     `mapstructure:"sitemaps_from_robots"`
}

// Follow selects links to crawl from a page when MaxDepth allows: those
// CSS selects whose absolute URL matches Match (if set) and none of Deny.
type Follow struct {
	CSS   string   `mapstructure:"css"`
	Match string   `mapstructure:"match"`
	Deny  []string `mapstructure:"deny"`
	// Hub marks the pages this rule selects as hubs (listings, indexes,
	// pagination): like the start pages of a follow crawl, they are
	// fetched again on HubRefreshAfter, so later runs find new links.
	Hub bool `mapstructure:"hub"`
}

// Canonical says how URLs are rewritten before they are looked up or
// stored, so that one page has one identity.
type Canonical struct {
	// DropQuery removes query parameters whose name matches one of these
	// globs (path.Match syntax: utm_*, sessionid).
	DropQuery []string `mapstructure:"drop_query"`
	// SortQuery orders the remaining query parameters by name.
	SortQuery bool `mapstructure:"sort_query"`
}

// Item is one kind of record, stored in a table of its name.
type Item struct {
	// URL is a regex on the page URL; empty means every page.
	URL string `mapstructure:"url"`
	// Expect is a CSS selector that must match, else the page fails.
	Expect string `mapstructure:"expect"`
	// Each makes one record per match; zero means one record per page.
	Each Each `mapstructure:"each"`
	// Key is the upsert key; empty means _url (plus _index with Each).
	Key []string `mapstructure:"key"`
	// JSONFrom is a CSS selector for the element whose text is the page's
	// JSON document when the body itself is not JSON.
	JSONFrom string `mapstructure:"json_from"`
	// Fetch overrides crawl.fetch for the pages whose URL matches URL
	// (http, browser or auto); empty: crawl.fetch. A page several items
	// match is fetched the most capable way they ask for (browser, then
	// auto, then http).
	Fetch      string           `mapstructure:"fetch"`
	Fields     map[string]Field `mapstructure:"fields"`
	FieldOrder []string         `mapstructure:"-"`
}

// Each is the selector that splits a page into records: exactly one of CSS,
// XPath or JSON (a gjson path to an array) is set.
type Each struct {
	CSS   string `mapstructure:"css"`
	XPath string `mapstructure:"xpath"`
	JSON  string `mapstructure:"json"`
	// Items, with JSON, is a path inside each JSON match to an array whose
	// elements become the records; fields read the outer match with paths
	// that start with "^." (e.g. each crew member of each category).
	Items string `mapstructure:"items"`
}

// IsZero reports whether no each selector was given.
func (e Each) IsZero() bool { return e.CSS == "" && e.XPath == "" && e.JSON == "" }

// Field is one column of an item: exactly one source (CSS, XPath, JSON or
// URL) and optional modifiers. In an item whose each selects HTML elements
// (css or xpath), a field with no source reads the each element itself:
// its text, or its Attr.
type Field struct {
	CSS   string `mapstructure:"css"`
	XPath string `mapstructure:"xpath"`
	JSON  string `mapstructure:"json"`
	URL   string `mapstructure:"url"`

	// Attr takes an attribute instead of the element's text.
	Attr string `mapstructure:"attr"`
	// Regex keeps its first capture group, else the whole match.
	Regex string `mapstructure:"regex"`
	// Type is text (default), integer, real, boolean, json or url (text
	// made an absolute URL against the page's base URL).
	Type string `mapstructure:"type"`
	// All stores every match as a JSON array instead of the first.
	All bool `mapstructure:"all"`
	// Required drops a record without this field, with a page warning.
	Required bool `mapstructure:"required"`
	// Default is used when the source yields nothing.
	Default any `mapstructure:"default"`
	// Process is an ordered list of value processors (see Step and
	// ParseSteps) applied after Regex, before the value takes its Type.
	// (omitempty: a field without one keeps the ItemsHash it had before
	// process existed, so an upgrade does not fetch every page again.)
	Process []any `mapstructure:"process" json:",omitempty"`
}

// Field types.
const (
	TypeText    = "text"
	TypeInteger = "integer"
	TypeReal    = "real"
	TypeBoolean = "boolean"
	TypeJSON    = "json"
	TypeURL     = "url"
)

// Schedule says when `gather schedule` runs the job.
type Schedule struct {
	// Cron is a 5-field cron spec or a descriptor such as @daily or
	// "@every 6h"; empty means the job is not scheduled.
	Cron string `mapstructure:"cron"`
	// Timezone is an IANA zone name for Cron; empty means local time.
	Timezone string `mapstructure:"timezone"`
	// Jitter delays each scheduled run by a random duration up to this.
	Jitter time.Duration `mapstructure:"jitter"`
}

// ItemsHash identifies what the items extract: their names, keys and
// fields with every rule, in order. Pages whose rows were taken with
// another version of the items are fetched again, so a field added to a
// config fills in on the pages already stored. Schedule and crawl limits
// are not part of it.
func (c *Config) ItemsHash() string {
	type item struct {
		Name   string
		Spec   Item
		Fields []Field
	}
	items := make([]item, 0, len(c.ItemOrder))
	for _, name := range c.ItemOrder {
		it := c.Items[name]
		fields := make([]Field, len(it.FieldOrder))
		for i, f := range it.FieldOrder {
			fields[i] = it.Fields[f]
		}
		spec := it
		spec.Fields = nil // in Fields, in order
		items = append(items, item{Name: name, Spec: spec, Fields: fields})
	}
	b, err := json.Marshal(items)
	if err != nil {
		// Only a default of a type JSON cannot hold gets here; such a
		// config has no stable identity, and every run re-extracts.
		b = []byte(fmt.Sprintf("%v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
