package config

import (
	"fmt"
	"github.com/gather-crawler/gather/internal/dbpath"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/xpath"
)

// Names an item's key may use besides its fields: the page's URL, and for
// items with each, the record's position on the page.
const (
	KeyURL   = "_url"
	KeyIndex = "_index"
)

// reservedNames are not field names: every record carries the page URL,
// the run, the fetch time and (with each) its position under them. The
// storage package's columns are named so; its tests hold the two to it.
var reservedNames = map[string]bool{KeyURL: true, "_run": true, "_fetched_at": true, KeyIndex: true}

// Reserved reports whether name is one of the names every record carries,
// which no field may take.
func Reserved(name string) bool { return reservedNames[name] }

// IdentPattern is what item and field names must look like: they become
// SQLite table and column names.
const IdentPattern = `^[a-z_][a-z0-9_]*$`

var identRe = regexp.MustCompile(IdentPattern)

// CheckDatabasePath refuses what cannot be a crawl's database file: an
// empty path, and SQLite's in-memory and URI names, which would lose the
// results when the process ends (or, in a config, create a file named
// ":memory:"). The config key and the --db flags read paths the same way.
func CheckDatabasePath(path string) error { return dbpath.Check(path) }

// Validate checks every key and reports all problems at once, each naming
// its key path. It opens ids_file to check it is readable but sends nothing.
// A cron spec must have a run within 5 years of the time of the call.
func (c *Config) Validate() error {
	p := &problems{file: c.File}
	if err := CheckDatabasePath(c.Database); err != nil {
		p.add("database", "%v", err)
	}
	c.validateFrontier(p)
	c.validateArchive(p)
	c.validateCrawl(p)
	c.validateProxy(p)
	if len(c.Items) == 0 {
		p.add("items", "no items: define at least one item with fields to extract")
	}
	for _, name := range c.ItemOrder {
		c.validateItem(p, name, c.Items[name])
	}
	// The scheduler parses with the same function from its own now, so
	// what passes here is what it runs.
	_, errs := c.cronSchedule(time.Now())
	p.errs = append(p.errs, errs...)
	if c.Schedule.Jitter < 0 {
		p.add("schedule.jitter", "must not be negative")
	}
	return p.err()
}

func (c *Config) validateCrawl(p *problems) {
	cr := &c.Crawl
	if strings.TrimSpace(cr.Name) == "" {
		p.add("crawl.name", "must not be empty")
	}
	st := cr.Start
	var hosts []string
	if len(st.URLs) == 0 && len(st.IDs) == 0 && st.IDsFile == "" && st.URLTemplate == "" && len(st.Sitemaps) == 0 {
		p.add("crawl.start", "nothing to crawl: set urls, url_template with ids or ids_file, or sitemaps")
	}
	for i, u := range st.Sitemaps {
		key := fmt.Sprintf("crawl.start.sitemaps[%d]", i)
		if h, err := checkURL(u); err != nil {
			p.add(key, "%v", err)
		} else {
			hosts = append(hosts, h)
		}
	}
	for i, u := range st.URLs {
		key := fmt.Sprintf("crawl.start.urls[%d]", i)
		if h, err := checkURL(u); err != nil {
			p.add(key, "%v", err)
		} else {
			hosts = append(hosts, h)
		}
	}
	hasIDs := len(st.IDs) > 0 || st.IDsFile != ""
	var tmpl *Template
	switch {
	case st.URLTemplate == "" && hasIDs:
		p.add("crawl.start.url_template", "ids need a url_template containing {id}")
	case st.URLTemplate != "" && !strings.Contains(st.URLTemplate, "{id}"):
		p.add("crawl.start.url_template", "%q does not contain {id}", st.URLTemplate)
	case st.URLTemplate != "":
		if h, err := checkURL(strings.ReplaceAll(st.URLTemplate, "{id}", "x")); err != nil {
			p.add("crawl.start.url_template", "%v", err)
		} else {
			hosts = append(hosts, h)
		}
		if t, err := ParseTemplate(st.URLTemplate); err != nil {
			p.add("crawl.start.url_template", "%v", err)
		} else {
			tmpl = &t
		}
		if !hasIDs {
			p.add("crawl.start", "url_template is set but there are no ids or ids_file to fill it")
		}
	}
	for i, id := range st.IDs {
		key := fmt.Sprintf("crawl.start.ids[%d]", i)
		switch {
		case strings.TrimSpace(id) == "":
			p.add(key, "empty id")
		case tmpl != nil:
			if err := tmpl.Check(id); err != nil {
				p.add(key, "%v", err)
			}
		}
	}
	if st.IDsFile != "" {
		// Only up to the first id: every load of the config (gather query
		// too) comes here, and a bad line further on is the crawl's to
		// skip and CheckIDsFile's to report.
		found, err := hasID(st.IDsFile)
		switch {
		case err != nil:
			p.add("crawl.start.ids_file", "%v", err)
		case !found && len(st.IDs) == 0:
			p.add("crawl.start.ids_file", "%s holds no ids (only blank lines and # comments): nothing to crawl", st.IDsFile)
		}
	}
	for i, d := range cr.AllowedDomains {
		if d == "" || strings.ContainsAny(d, "/:?#@ ") {
			p.add(fmt.Sprintf("crawl.allowed_domains[%d]", i), "%q is not a host name (write it without scheme, port or path)", d)
		}
	}
	if len(cr.AllowedDomains) > 0 {
		for _, h := range hosts {
			if !containsFold(cr.AllowedDomains, h) {
				p.add("crawl.allowed_domains", "does not include %q, the host of a start URL", h)
			}
		}
	}
	if cr.Parallelism < 1 {
		p.add("crawl.parallelism", "must be at least 1, got %d", cr.Parallelism)
	} else if cr.Parallelism > 10000 {
		p.add("crawl.parallelism", "must be at most 10000, got %d", cr.Parallelism)
	}
	if cr.Concurrency < 0 {
		p.add("crawl.concurrency", "must not be negative (0: no cap but parallelism per host), got %d", cr.Concurrency)
	} else if cr.Concurrency > 1000000 {
		p.add("crawl.concurrency", "must be at most 1000000, got %d", cr.Concurrency)
	}
	if cr.Delay < 0 {
		p.add("crawl.delay", "must not be negative")
	}
	if cr.RandomDelay < 0 {
		p.add("crawl.random_delay", "must not be negative")
	}
	if cr.Timeout <= 0 {
		p.add("crawl.timeout", "must be more than 0 (e.g. 30s)")
	}
	if cr.Retries < 0 || cr.Retries > 100 {
		p.add("crawl.retries", "must be between 0 and 100, got %d", cr.Retries)
	}
	if cr.MaxBodySize <= 0 {
		p.add("crawl.max_body_size", "must be more than 0 (e.g. 10MB)")
	}
	if cr.ExtractTimeout <= 0 {
		p.add("crawl.extract_timeout", "must be more than 0 (e.g. 10s)")
	}
	if cr.MaxValueSize <= 0 {
		p.add("crawl.max_value_size", "must be more than 0 (e.g. 1MB)")
	}
	for name, val := range cr.Headers {
		key := "crawl.headers." + name
		switch {
		case !httpToken(name):
			p.add(key, "%q is not a valid header name", name)
		case strings.EqualFold(name, "Accept-Encoding"):
			p.add(key, "gather negotiates compression itself, so that the size limit applies to the decompressed body; remove this header")
		case strings.ContainsAny(val, "\r\n"):
			p.add(key, "header value must not contain line breaks")
		}
	}
	for i, ct := range cr.ContentTypes {
		if typ, sub, ok := strings.Cut(ct, "/"); !ok || typ == "" || sub == "" || strings.ContainsAny(ct, " ;,") || typ == "*" {
			p.add(fmt.Sprintf("crawl.content_types[%d]", i), "%q is not a media type such as text/html or text/* (no parameters)", ct)
		}
	}
	if cr.MaxDepth < 1 {
		p.add("crawl.max_depth", "must be at least 1 (1 crawls the start pages only), got %d; for no limit write max_depth: unlimited (with allowed_domains)", cr.MaxDepth)
	}
	if cr.MaxDepth == MaxDepthUnlimited && len(cr.AllowedDomains) == 0 {
		p.add("crawl.allowed_domains", "max_depth: unlimited follows links as far as they go, so the hosts it may reach must be listed here (e.g. [%s])", strings.Join(c.StartHosts(), ", "))
	}
	if cr.MaxDepth > 1 && len(cr.Follow) == 0 {
		p.add("crawl.follow", "max_depth is %s but there are no follow rules, so no link would be followed", DepthString(cr.MaxDepth))
	}
	if cr.MaxDepth == 1 && len(cr.Follow) > 0 {
		p.add("crawl.max_depth", "is 1, so the follow rules are never used; set it to 2 or more")
	}
	for i, f := range cr.Follow {
		key := fmt.Sprintf("crawl.follow[%d]", i)
		if f.CSS == "" {
			p.add(key+".css", "must select the links to follow, e.g. a.next")
		} else if _, err := cascadia.ParseGroup(f.CSS); err != nil {
			p.add(key+".css", "invalid selector %q: %v", f.CSS, err)
		}
		if f.Match != "" {
			if _, err := regexp.Compile(f.Match); err != nil {
				p.add(key+".match", "invalid regex %q: %v", f.Match, err)
			}
		}
		for j, d := range f.Deny {
			if _, err := regexp.Compile(d); err != nil || d == "" {
				p.add(fmt.Sprintf("%s.deny[%d]", key, j), "invalid regex %q: %v", d, err)
			}
		}
	}
	for i, g := range cr.Canonical.DropQuery {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			p.add(fmt.Sprintf("crawl.canonical.drop_query[%d]", i), "%q is not a glob of parameter names such as utm_*", g)
		}
	}
	if cr.RetryFailedAfter < 0 {
		p.add("crawl.retry_failed_after", "must not be negative")
	}
	if cr.RetryGoneAfter < 0 {
		p.add("crawl.retry_gone_after", "must not be negative")
	}
	if cr.RetryFailedRuns < 0 {
		p.add("crawl.retry_failed_runs", "must not be negative (0: never give up)")
	}
	if cr.RefreshAfter < 0 {
		p.add("crawl.refresh_after", "must not be negative")
	}
	if cr.HubRefreshAfter < 0 {
		p.add("crawl.hub_refresh_after", "must not be negative")
	}
	if cr.HubRefreshAfter > 0 && cr.MaxDepth <= 1 {
		p.add("crawl.hub_refresh_after", "applies to follow crawls (max_depth 2 or more), where hub pages lead to new pages")
	}
	c.validateFetch(p)
}

func (c *Config) validateItem(p *problems, name string, it Item) {
	base := "items." + name
	if strings.HasPrefix(name, "gather_") || strings.HasPrefix(name, "sqlite_") {
		p.add(base, "item names starting with gather_ or sqlite_ are reserved for gather's own tables")
	}
	if it.URL != "" {
		if _, err := regexp.Compile(it.URL); err != nil {
			p.add(base+".url", "invalid regex %q: %v", it.URL, err)
		}
	}
	checkCSS(p, base+".expect", it.Expect)
	checkCSS(p, base+".json_from", it.JSONFrom)
	checkFetchMode(p, base+".fetch", it.Fetch)
	n := 0
	for _, s := range []string{it.Each.CSS, it.Each.XPath, it.Each.JSON} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		p.add(base+".each", "set only one of css, xpath, json")
	}
	checkCSS(p, base+".each.css", it.Each.CSS)
	checkXPath(p, base+".each.xpath", it.Each.XPath)
	checkJSONPath(p, base+".each.json", it.Each.JSON)
	if it.Each.Items != "" && it.Each.JSON == "" {
		p.add(base+".each.items", "applies to json each only")
	}
	checkJSONPath(p, base+".each.items", it.Each.Items)
	if len(it.Fields) == 0 {
		p.add(base+".fields", "no fields: an item needs at least one field")
	}
	for _, fname := range it.FieldOrder {
		f := it.Fields[fname]
		c.validateField(p, base+".fields."+fname, fname, f, it.Each.CSS != "" || it.Each.XPath != "")
		if strings.HasPrefix(f.JSON, "^.") && it.Each.Items == "" {
			p.add(base+".fields."+fname+".json", "a path starting with ^. reads the outer match of each.json, so it needs each.items")
		}
	}
	seen := map[string]bool{}
	for i, k := range it.Key {
		key := fmt.Sprintf("%s.key[%d]", base, i)
		switch {
		case seen[k]:
			p.add(key, "%q is listed twice", k)
		case k == KeyURL:
		case k == KeyIndex && !it.Each.IsZero():
		case k == KeyIndex:
			p.add(key, "_index exists only for items with each")
		default:
			if _, ok := it.Fields[k]; !ok {
				p.add(key, "%q names no field of %s (fields: %s)", k, name, strings.Join(it.FieldOrder, ", "))
			}
		}
		seen[k] = true
	}
}

// validateField checks one field; inElement says the item's each selects
// HTML elements, which a field without a source reads itself.
func (c *Config) validateField(p *problems, key, name string, f Field, inElement bool) {
	if Reserved(name) {
		p.add(key, "%s is a column gather adds itself; choose another name", name)
	}
	var sources []string
	for _, s := range []struct{ name, val string }{{"css", f.CSS}, {"xpath", f.XPath}, {"json", f.JSON}, {"url", f.URL}} {
		if s.val != "" {
			sources = append(sources, s.name)
		}
	}
	switch len(sources) {
	case 0:
		if !inElement {
			p.add(key, "no source: set one of css, xpath, json or url (a field without one reads the each element itself, and this item has no each.css or each.xpath)")
		}
	case 1:
	default:
		p.add(key, "two sources (%s): set exactly one", strings.Join(sources, " and "))
	}
	checkCSS(p, key+".css", f.CSS)
	checkXPath(p, key+".xpath", f.XPath)
	checkJSONPath(p, key+".json", f.JSON)
	if f.URL != "" {
		if _, err := regexp.Compile(f.URL); err != nil {
			p.add(key+".url", "invalid regex %q: %v", f.URL, err)
		}
	}
	if f.Regex != "" {
		if _, err := regexp.Compile(f.Regex); err != nil {
			p.add(key+".regex", "invalid regex %q: %v", f.Regex, err)
		}
	}
	if f.Attr != "" && (f.JSON != "" || f.URL != "") {
		p.add(key+".attr", "attr applies to css and xpath sources, and to the each element itself, only")
	}
	switch f.Type {
	case TypeText, TypeInteger, TypeReal, TypeBoolean, TypeJSON, TypeURL:
	default:
		p.add(key+".type", "unknown type %q (want text, integer, real, boolean, json or url)", f.Type)
	}
	if f.Default != nil {
		if err := checkDefault(f.Type, f.Default); err != nil {
			p.add(key+".default", "%v", err)
		}
	}
	_, stepErrs := ParseSteps(f.Process)
	for _, e := range stepErrs {
		p.add(fmt.Sprintf("%s.process[%d]", key, e.Index), "%s", e.Msg)
	}
}

func checkDefault(typ string, v any) error {
	switch typ {
	case TypeInteger:
		switch x := v.(type) {
		case int, int64:
			return nil
		case float64:
			if x == float64(int64(x)) {
				return nil
			}
		}
		return fmt.Errorf("%v is not an integer", v)
	case TypeReal:
		switch v.(type) {
		case int, int64, float64:
			return nil
		}
		return fmt.Errorf("%v is not a number", v)
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%v is not true or false", v)
		}
	case TypeText, TypeURL:
		switch v.(type) {
		case map[string]any, []any:
			return fmt.Errorf("a text field's default must be a plain value")
		}
	}
	return nil
}

func checkCSS(p *problems, key, sel string) {
	if sel == "" {
		return
	}
	if _, err := cascadia.ParseGroup(sel); err != nil {
		p.add(key, "invalid selector %q: %v", sel, err)
	}
}

func checkXPath(p *problems, key, expr string) {
	if expr == "" {
		return
	}
	if _, err := xpath.Compile(expr); err != nil {
		p.add(key, "invalid XPath %q: %v", expr, err)
	}
}

func checkJSONPath(p *problems, key, path string) {
	if path == "" {
		return
	}
	if err := ValidJSONPath(strings.TrimPrefix(path, "^.")); err != nil {
		p.add(key, "invalid JSON path %q: %v", path, err)
	} else if err := JSONModifierProblem(path); err != nil {
		p.add(key, "%v", err)
	}
}

// ValidJSONPath checks the shape of a gjson path: gjson itself accepts any
// string and silently matches nothing, so typos would pass unnoticed.
func ValidJSONPath(path string) error {
	if strings.TrimSpace(path) != path {
		return fmt.Errorf("leading or trailing space")
	}
	var stack []byte
	inQuote := false
	prevDot := true // a leading dot is an empty component
	for i := 0; i < len(path); i++ {
		ch := path[i]
		if ch == '\\' {
			i++
			prevDot = false
			continue
		}
		if inQuote {
			if ch == '"' {
				inQuote = false
			}
			continue
		}
		switch ch {
		case '"':
			inQuote = true
		case '(', '[', '{':
			stack = append(stack, ch)
		case ')', ']', '}':
			want := map[byte]byte{')': '(', ']': '[', '}': '{'}[ch]
			if len(stack) == 0 || stack[len(stack)-1] != want {
				return fmt.Errorf("unbalanced %q at offset %d", ch, i)
			}
			stack = stack[:len(stack)-1]
		case '.', '|':
			if prevDot && len(stack) == 0 {
				return fmt.Errorf("empty path component at offset %d", i)
			}
			prevDot = len(stack) == 0
			continue
		}
		prevDot = false
	}
	if inQuote {
		return fmt.Errorf("unterminated string")
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed %q", stack[len(stack)-1])
	}
	if prevDot {
		return fmt.Errorf("ends with a separator")
	}
	return nil
}

// checkURL returns the host of an absolute http(s) URL.
func checkURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("invalid URL %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("URL %q must start with http:// or https://", raw)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("URL %q has no host", raw)
	}
	return strings.ToLower(u.Hostname()), nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func httpToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 127 || !(r == '-' || r == '_' || r == '.' || r == '!' || r == '#' || r == '$' || r == '%' || r == '&' || r == '\'' || r == '*' || r == '+' || r == '^' || r == '`' || r == '|' || r == '~' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return false
		}
	}
	return true
}

// StartHosts returns the hosts of the start URLs and URL template, lower
// case and without ports: the default allowed domains.
func (c *Config) StartHosts() []string {
	var hosts []string
	add := func(raw string) {
		if h, err := checkURL(raw); err == nil && !containsFold(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	for _, u := range c.Crawl.Start.URLs {
		add(u)
	}
	if c.Crawl.Start.URLTemplate != "" {
		add(strings.ReplaceAll(c.Crawl.Start.URLTemplate, "{id}", "x"))
	}
	for _, u := range c.Crawl.Start.Sitemaps {
		add(u)
	}
	return hosts
}

// StartOrigins are the scheme://host[:port] of the start URLs, the URL
// template and the sitemaps, once each: where robots.txt is asked for the
// sitemaps it lists.
func (c *Config) StartOrigins() []string {
	var out []string
	add := func(raw string) {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return
		}
		o := strings.ToLower(u.Scheme + "://" + u.Host)
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	st := c.Crawl.Start
	for _, u := range st.URLs {
		add(u)
	}
	if st.URLTemplate != "" {
		add(strings.ReplaceAll(st.URLTemplate, "{id}", "x"))
	}
	for _, u := range st.Sitemaps {
		add(u)
	}
	return out
}
