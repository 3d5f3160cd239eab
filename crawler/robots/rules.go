package robots

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// robots.txt rules as RFC 9309 states them and Google's reference parser
// (github.com/google/robotstxt) applies them, checked against that
// parser's own test cases (google_test.go). A file is parsed once
// for one user agent into the rules of the group that applies to it; a
// URL is then matched against those rules.
//
// What the RFC says, and how it is read here:
//   - Lines are "key: value"; keys are case-insensitive; "#" starts a
//     comment anywhere on a line; lines end in LF, CR or CRLF.
//   - A group is one or more user-agent lines followed by rules; rules
//     before the first user-agent line belong to no group and are ignored.
//     Lines other than user-agent, allow and disallow (sitemap,
//     crawl-delay, unknown keys) neither start nor end a group.
//   - A user agent obeys the groups whose user-agent value equals its
//     product token, case-insensitively; all such groups are merged. Only
//     when there is none does it obey the "*" groups (merged too). With
//     neither, everything is allowed.
//   - Of the rules of that group matching the path (and query), the
//     longest wins, counted in octets of the pattern; an allow and a
//     disallow of equal length resolve to allow. "*" matches any run of
//     characters, a final "$" the end of the path; patterns match
//     prefixes.
//   - Non-ASCII octets of patterns and URLs are percent-encoded before
//     comparison (hex digits upper case); other escapes are compared as
//     written.
//
// Where Google's parser goes beyond the RFC, gather follows it too, as
// each of these only reads a file as its author evidently meant it:
// "disallow /" without the colon is read as "disallow: /"; a user-agent
// value is cut at the first character that cannot be in a product token
// ("Foo Bar" is "Foo"); "* anything" is "*"; a UTF-8 byte order mark
// (even part of one) at the start is skipped; a few misspellings of the
// keys are accepted ("useragent", "disalow", …); an allow pattern ending
// in "/index.htm…" also allows its directory ("/dir/$"); a line is cut
// after maxLine bytes.

// maxLine is the longest line read; the rest of it is dropped
// (Google's parser: 8 × 2083 bytes, counting the end of line).
const maxLine = 8*2083 - 1

// maxSitemaps caps the Sitemap lines kept of one file, as the sitemaps
// protocol caps the URLs of one sitemap.
const maxSitemaps = 50000

// MaxCrawlDelay caps Crawl-delay: a site asking for more is paced at
// this. Larger values (Crawl-delay: 3600 is seen in the wild) would stall
// a crawl for days, and the pause is also how long an interrupted crawl
// may take to stop.
const MaxCrawlDelay = 10 * time.Second

// Rule is one allow or disallow line of the group that applies.
type Rule struct {
	allow   bool
	pattern string // percent-encoded as it is matched
	// dirPattern, for an allow of ".../index.htm…", is ".../$".
	dirPattern string
	line       int
	text       string // the line's key and value as written, for reasons
}

// Rules is a robots.txt file as it applies to one user agent.
type Rules struct {
	specific, global []Rule
	// sawSpecific: some group names the agent, so the "*" groups do not
	// apply, even if that group has no rules.
	sawSpecific bool
	// Crawl-delay of the specific and of the "*" groups (0: none).
	specificDelay, globalDelay time.Duration
	// sitemaps are the Sitemap lines, which belong to no group.
	sitemaps []string
}

// Parse reads body as it applies to the user agent whose product
// token is token.
func Parse(body []byte, token string) *Rules {
	rs := &Rules{}
	var seenGlobal, seenSpecific, seenRule bool
	// The group's Crawl-delay is known to be ours only once its user-agent
	// lines are all read: it is kept until the group ends. inGroup: a
	// user-agent line has been read (a Crawl-delay before any is in no
	// group).
	var groupDelay time.Duration
	inGroup := false
	endGroup := func() {
		switch {
		case seenSpecific:
			rs.specificDelay = max(rs.specificDelay, groupDelay)
		case seenGlobal:
			rs.globalDelay = max(rs.globalDelay, groupDelay)
		}
		seenGlobal, seenSpecific, seenRule, groupDelay, inGroup = false, false, false, 0, false
	}
	lineNum := 0
	emit := func(line []byte) {
		lineNum++
		key, value, ok := keyValue(line)
		if !ok {
			return
		}
		switch keyKindOf(key) {
		case keyUserAgent:
			if seenRule { // a user-agent line after rules starts a new group
				endGroup()
			}
			inGroup = true
			if value == "*" || strings.HasPrefix(value, "*") && isSpace(value[1]) {
				seenGlobal = true
			} else if t := ProductToken(value); t != "" && strings.EqualFold(t, token) {
				seenSpecific, rs.sawSpecific = true, true
			}
		case keyAllow, keyDisallow:
			if inGroup {
				seenRule = true // the group's user-agent lines are all read
			}
			if !seenGlobal && !seenSpecific {
				return // outside any group, or in a group not ours
			}
			rule := Rule{allow: keyKindOf(key) == keyAllow, pattern: escapePattern(value),
				line: lineNum, text: key + ": " + value}
			if rule.allow {
				if i := strings.LastIndexByte(rule.pattern, '/'); i >= 0 && strings.HasPrefix(rule.pattern[i:], "/index.htm") {
					rule.dirPattern = rule.pattern[:i+1] + "$"
				}
			}
			if seenSpecific {
				rs.specific = append(rs.specific, rule)
			} else {
				rs.global = append(rs.global, rule)
			}
		case keyCrawlDelay:
			if d, ok := parseCrawlDelay(value); ok && inGroup {
				groupDelay = max(groupDelay, d)
			}
		case keySitemap:
			if value != "" && len(rs.sitemaps) < maxSitemaps {
				rs.sitemaps = append(rs.sitemaps, value)
			}
		}
	}

	// A byte order mark, or the start of one, is skipped at the start only.
	bom := []byte{0xEF, 0xBB, 0xBF}
	i := 0
	for i < len(bom) && i < len(body) && body[i] == bom[i] {
		i++
	}
	// Of a broken mark, the bytes from the one that broke it on are kept:
	// "\xEF\x11\xBF" leaves "\x11\xBF" at the start of the first line.
	body = body[i:]
	line := make([]byte, 0, 256)
	lastCR := false
	for _, ch := range body {
		if ch != '\n' && ch != '\r' {
			if len(line) < maxLine {
				line = append(line, ch)
			}
			continue
		}
		// The LF of a CRLF ends no second line.
		if !(len(line) == 0 && lastCR && ch == '\n') {
			emit(line)
		}
		line = line[:0]
		lastCR = ch == '\r'
	}
	emit(line)
	endGroup()
	return rs
}

// keyValue splits a line into its key and value, without comment or
// surrounding whitespace; ok is false for a line that is neither.
func keyValue(line []byte) (key, value string, ok bool) {
	s := string(line)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	s = trimSpace(s)
	sep := strings.IndexByte(s, ':')
	if sep < 0 {
		// "disallow /": whitespace stands for the colon, but only between
		// exactly two words.
		sep = strings.IndexAny(s, " \t")
		if sep < 0 || strings.ContainsAny(strings.TrimLeft(s[sep:], " \t"), " \t") {
			return "", "", false
		}
	}
	key, value = trimSpace(s[:sep]), trimSpace(s[sep+1:])
	return key, value, key != ""
}

type keyKind int

const (
	keyUnknown keyKind = iota
	keyUserAgent
	keyAllow
	keyDisallow
	keyCrawlDelay
	keySitemap
)

func keyKindOf(key string) keyKind {
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if len(key) >= len(p) && strings.EqualFold(key[:len(p)], p) {
				return true
			}
		}
		return false
	}
	switch {
	case has("user-agent", "useragent", "user agent"):
		return keyUserAgent
	case has("allow"):
		return keyAllow
	case has("disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw"):
		return keyDisallow
	case strings.EqualFold(key, "crawl-delay"):
		return keyCrawlDelay
	case has("sitemap", "site-map"):
		return keySitemap
	}
	return keyUnknown
}

// parseCrawlDelay reads a Crawl-delay value in seconds, fractions allowed,
// capped at MaxCrawlDelay.
func parseCrawlDelay(v string) (time.Duration, bool) {
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(secs) || secs < 0 {
		return 0, false
	}
	if secs >= MaxCrawlDelay.Seconds() {
		return MaxCrawlDelay, true
	}
	return time.Duration(secs * float64(time.Second)), true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func trimSpace(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
}

// ProductToken is the part of a user agent that robots.txt groups name:
// its start up to the first character other than a-z, A-Z, "_" and "-"
// ("gatherbot/2.1 (+https://…)" is "gatherbot"). Tokens are compared
// whole, so "gatherbot-extra" is not "gatherbot".
func ProductToken(ua string) string {
	for i := 0; i < len(ua); i++ {
		c := ua[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			return ua[:i]
		}
	}
	return ua
}

// escapePattern percent-encodes the octets outside US-ASCII and
// writes the hex digits of existing escapes in upper case ("%aa" is
// "%AA"); nothing else changes.
func escapePattern(s string) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte('%')
			b.WriteByte(upperHex(s[i+1]))
			b.WriteByte(upperHex(s[i+2]))
			i += 2
		case c >= 0x80:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// Path is what robots.txt rules are matched against: the URL's path,
// params and query as sent, without the fragment, "/" when empty, in the
// encoding of escapePattern.
func Path(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		p += "?" + u.RawQuery
	}
	return escapePattern(p)
}

// allowed says whether path (as Path gives it) may be fetched and,
// if not, the rule that disallows it.
func (rs *Rules) Allowed(path string) (bool, *Rule) {
	if ok, rule, decided := decide(rs.specific, path); decided {
		return ok, rule
	}
	if rs.sawSpecific {
		// The agent's own group has no rule for the path (or only empty
		// ones): the "*" groups do not apply to it.
		return true, nil
	}
	if ok, rule, decided := decide(rs.global, path); decided {
		return ok, rule
	}
	return true, nil
}

// crawlDelay is the Crawl-delay of the group that applies (0: none).
func (rs *Rules) CrawlDelay() time.Duration {
	if rs.sawSpecific {
		return rs.specificDelay
	}
	return rs.globalDelay
}

// decide finds the longest allow and disallow of rules matching path.
// Only a match longer than zero decides: an empty pattern matches
// everything with length 0 and so never overrides anything.
func decide(rules []Rule, path string) (ok bool, rule *Rule, decided bool) {
	allowLen, disallowLen := -1, -1
	var disallow *Rule
	for i := range rules {
		r := &rules[i]
		n := -1
		if match(path, r.pattern) {
			n = len(r.pattern)
		} else if r.dirPattern != "" && match(path, r.dirPattern) {
			n = len(r.dirPattern)
		}
		switch {
		case n < 0:
		case r.allow:
			allowLen = max(allowLen, n)
		case n > disallowLen:
			disallowLen, disallow = n, r
		}
	}
	if allowLen <= 0 && disallowLen <= 0 {
		return true, nil, false
	}
	if disallowLen > allowLen {
		return false, disallow, true
	}
	return true, nil, true
}

// match reports whether pattern matches a prefix of path: "*" is any
// run of characters and a "$" that ends the pattern is the end of the
// path; every other character stands for itself.
//
// Between the stars are literal pieces. The first must start the path;
// each later one is taken at its first occurrence after the one before,
// which leaves the most room for those after it; a piece before a final
// "$" must end the path. This is linear in the path for any pattern (a
// robots.txt could otherwise make every URL cost its lines' length times
// the URL's).
func match(path, pattern string) bool {
	end := strings.HasSuffix(pattern, "$")
	if end {
		pattern = pattern[:len(pattern)-1]
	}
	first, rest, star := strings.Cut(pattern, "*")
	if !strings.HasPrefix(path, first) {
		return false
	}
	pos := len(first)
	if !star {
		return !end || pos == len(path)
	}
	for {
		piece, more, ok := strings.Cut(rest, "*")
		if !ok { // the last piece
			if end {
				return len(path)-len(piece) >= pos && strings.HasSuffix(path, piece)
			}
			return strings.Contains(path[pos:], piece)
		}
		i := strings.Index(path[pos:], piece)
		if i < 0 {
			return false
		}
		pos += i + len(piece)
		rest = more
	}
}

// reason says which rule disallowed a page, in a few words.
func (r *Rule) Reason() string {
	text := r.text
	if len(text) > 120 {
		text = text[:120] + "…"
	}
	return fmt.Sprintf("disallowed by robots.txt (line %d: %q)", r.line, text)
}
