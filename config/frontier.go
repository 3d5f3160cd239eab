package config

import (
	"net/url"
	"strconv"
	"strings"
)

// validateFrontier checks the frontier key's URL without sending anything
// (gather validate --connect reaches it). Its messages show the URL with
// the password replaced by "xxxxx": it comes from GATHER_FRONTIER, often
// with one.
func (c *Config) validateFrontier(p *problems) {
	if c.Frontier == "" {
		return
	}
	u, err := url.Parse(c.Frontier)
	if err != nil {
		p.add("frontier", "not a URL (expected redis://[:PASSWORD@]HOST:PORT/DB or rediss:// for TLS)")
		return
	}
	shown := u.Redacted()
	switch {
	case u.Scheme != "redis" && u.Scheme != "rediss":
		p.add("frontier", "%s: the scheme must be redis:// or rediss:// (TLS)", shown)
	case u.Hostname() == "":
		p.add("frontier", "%s: no host", shown)
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			p.add("frontier", "%s: the path must be a database number, e.g. /0", shown)
		}
	}
}
