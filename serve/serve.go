// Package serve is gather's web page: the run history with live progress,
// failures grouped by reason, and the data (tables, facets, a read-only SQL
// box, CSV and JSON exports), read from a database through storage's
// read-only connection. It has no write path: every route is a GET.
//
// Crawled values are hostile input. Templates escape them (html/template),
// URLs become links only when they are http(s), and a Content-Security-
// Policy allows only the package's own script and style, so a value that
// slips through cannot run.
package serve

import (
	"crypto/subtle"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gather-crawler/gather/crawler/progress"
	"github.com/gather-crawler/gather/storage"
)

//go:embed templates/*.html static/*
var files embed.FS

// Options configure the pages.
type Options struct {
	Reader *storage.Reader
	Logger *slog.Logger
	// Base is the path the handler is mounted under ("" for the root),
	// prefixed to every link.
	Base string
	// Token, if set, is required of every request: an "Authorization:
	// Bearer" header, or ?token= once, which sets a cookie.
	Token string
	// QueryTimeout stops a statement of the SQL box (and its export);
	// 0 means DefaultQueryTimeout.
	QueryTimeout time.Duration
	// RowCap is how many rows the SQL box and a table page show at most;
	// 0 means DefaultRowCap. Exports are not capped.
	RowCap int
	// ProgressEvery is how often the runs page asks for the progress;
	// 0 means a second.
	ProgressEvery time.Duration
	// Live, if set, reports the jobs of this process (gather schedule):
	// their next run and the running crawler's stats.
	Live func() []LiveJob
}

// LiveJob is a scheduled job as the scheduler sees it.
type LiveJob struct {
	Name     string
	Schedule string
	Next     time.Time // zero: none
	// Stats is the running crawl's, nil when the job is not running.
	Stats *progress.Snapshot
}

// Defaults for Options.
const (
	DefaultQueryTimeout = 5 * time.Second
	DefaultRowCap       = 1000
)

// server holds the handler's state; it is read-only after New.
type server struct {
	opts  Options
	log   *slog.Logger
	pages map[string]*page
}

// New returns the pages' handler.
func New(opts Options) (http.Handler, error) {
	if opts.Reader == nil {
		return nil, errors.New("serve: no database reader")
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = DefaultQueryTimeout
	}
	if opts.RowCap <= 0 {
		opts.RowCap = DefaultRowCap
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = time.Second
	}
	opts.Base = strings.TrimSuffix(opts.Base, "/")
	s := &server{opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.pages, err = parsePages(opts.Base); err != nil {
		return nil, err
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.runs)
	mux.HandleFunc("GET /runs/{id}", s.run)
	mux.HandleFunc("GET /api/progress", s.progress)
	mux.HandleFunc("GET /failures", s.failures)
	mux.HandleFunc("GET /page", s.pageHistory)
	mux.HandleFunc("GET /data", s.tables)
	mux.HandleFunc("GET /data/{table}", s.table)
	mux.HandleFunc("GET /export/{table}", s.exportTable)
	mux.HandleFunc("GET /sql", s.sqlBox)
	mux.HandleFunc("GET /sql/export", s.exportSQL)
	var h http.Handler = mux
	if opts.Base != "" {
		h = http.StripPrefix(opts.Base, h)
	}
	return s.guard(h), nil
}

// csp allows the package's own script, style and fetches, and nothing
// else: no inline script or style, no plugins, no framing, no forms
// posting anywhere.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// tokenCookie carries the token after a ?token= visit.
const tokenCookie = "gather_token"

// guard sets the security headers, allows reading methods only, and
// checks the token (or, without one, that the request was addressed to a
// loopback name, so that a web page rebinding its own name to 127.0.0.1
// cannot read the data).
func (s *server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "read-only: only GET and HEAD", http.StatusMethodNotAllowed)
			return
		}
		if s.opts.Token == "" {
			if !loopbackHost(r.Host) {
				http.Error(w, "this server answers requests to 127.0.0.1, ::1 or localhost only", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if t := r.URL.Query().Get("token"); t != "" && s.tokenOK(t) {
			http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: t, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			u := *r.URL
			q := u.Query()
			q.Del("token")
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.tokenOK(bearer) {
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(tokenCookie); err == nil && s.tokenOK(c.Value) {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("WWW-Authenticate", `Bearer realm="gather"`)
		http.Error(w, "a token is required: open this page with ?token=… once, or send Authorization: Bearer …", http.StatusUnauthorized)
	})
}

func (s *server) tokenOK(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(s.opts.Token)) == 1
}

// loopbackHost reports whether a Host header names this machine by a
// loopback address or localhost.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ErrTokenRequired is returned by CheckListen for an address other
// machines can reach when no token is set.
var ErrTokenRequired = errors.New("a --listen address other machines can reach needs a token (--token or GATHER_SERVE_TOKEN)")

// CheckListen refuses to serve the data on an address beyond loopback
// without a token. An empty host ("":8080) listens on every interface.
func CheckListen(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if token != "" {
		return nil
	}
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") {
		return nil
	}
	return ErrTokenRequired
}

// link builds a path under the base with a query.
func (s *server) link(path string, q url.Values) string {
	p := s.opts.Base + path
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}
