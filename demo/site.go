package demo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure the site.
type Options struct {
	// Latency delays every page response; Jitter varies it uniformly within
	// ±Jitter, deterministically per URL.
	Latency time.Duration
	Jitter  time.Duration
	// Version, if set, gives the content version of a movie id; the site's
	// data changes when it does (see MovieFor).
	Version func(id string) int
	// Fault, if set, decides a fault for each request of a path, given how
	// many times that path was requested before (attempt counts from 0).
	Fault func(path string, attempt int) Fault
	// RetryAfter is sent with FaultTooManyRequests (default "1").
	RetryAfter string
	// Robots is the robots.txt body (default: allow everything);
	// RobotsStatus, if set, answers robots.txt with that status instead.
	Robots       string
	RobotsStatus int
	// Track keeps per-path request counts and a request log for tests.
	// Off, the site's memory stays flat however many pages it serves.
	Track bool
	// Cache keeps each rendered page, so that a benchmark measures the
	// crawler rather than the site's rendering. Memory grows with the pages.
	Cache bool
	// Challenge, if set, gates every page but robots.txt behind a
	// JavaScript challenge (see Challenge).
	Challenge *Challenge
	// Captcha, if set, answers the paths it picks with a CAPTCHA.
	Captcha func(path string) bool
	// ListSize is the number of movie links per /list/N page (default 50)
	// and ListPages the number of list pages (default 10).
	ListSize, ListPages int
}

// Site serves the demo pages. Its handler is safe for concurrent use.
type Site struct {
	opts Options

	inFlight    atomic.Int64
	maxInFlight atomic.Int64
	total       atomic.Int64

	mu     sync.Mutex
	counts map[string]int
	log    []Request
	cache  sync.Map // path → []byte, with Options.Cache

	// tokens are the challenge tokens seen (under mu); challenges and
	// solves count challenge answers and distinct tokens.
	tokens             map[string]bool
	challenges, solves atomic.Int64

	// spa counts spa pages being loaded: from the shell's request to the
	// end of the data's (see spa.go).
	spa spaLoads
}

// Request is one request in the site's log (with Options.Track).
type Request struct {
	Path  string
	At    time.Time
	Fault Fault
}

// New makes a site.
func New(opts Options) *Site {
	if opts.RetryAfter == "" {
		opts.RetryAfter = "1"
	}
	if opts.ListSize <= 0 {
		opts.ListSize = 50
	}
	if opts.ListPages <= 0 {
		opts.ListPages = 10
	}
	if opts.Challenge != nil {
		c := *opts.Challenge
		c.defaults()
		opts.Challenge = &c
	}
	return &Site{opts: opts, counts: map[string]int{}, tokens: map[string]bool{}}
}

var (
	titleRe = regexp.MustCompile(`^/(classic/|tiny/)?title/(tt[0-9]{7,10})/fullcredits/?$`)
	listRe  = regexp.MustCompile(`^/list/([0-9]+)$`)
)

// PageURL is the path of id's credits page in today's layout.
func PageURL(base, id string) string { return base + "/title/" + id + "/fullcredits" }

// ClassicURL is the path of id's credits page in the classic layout.
func ClassicURL(base, id string) string { return base + "/classic/title/" + id + "/fullcredits" }

// ServeHTTP serves robots.txt, credits pages in both layouts and list pages.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxInFlight.Load()
		if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	s.total.Add(1)
	path := r.URL.Path
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	attempt := s.record(path)

	if r.URL.Path == "/robots.txt" {
		s.serveRobots(w)
		return
	}
	if s.opts.Captcha != nil && s.opts.Captcha(path) {
		serveCaptcha(w)
		return
	}
	if s.opts.Challenge != nil && s.gate(w, r) {
		return
	}
	if s.opts.Fault != nil {
		if f := s.opts.Fault(path, attempt); f != FaultNone {
			s.noteFault(path, f)
			if !s.wait(r.Context(), path) {
				return
			}
			serveFault(w, r, f, s.opts.RetryAfter)
			return
		}
	}
	if !s.wait(r.Context(), path) {
		return
	}
	if m := titleRe.FindStringSubmatch(r.URL.Path); m != nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if s.opts.Cache {
			if b, ok := s.cache.Load(r.URL.Path); ok {
				w.Write(b.([]byte))
				return
			}
		}
		v := 0
		if s.opts.Version != nil {
			v = s.opts.Version(m[2])
		}
		movie := MovieFor(m[2], v)
		var page []byte
		switch m[1] {
		case "classic/":
			page = RenderClassic(movie)
		case "tiny/":
			page = RenderTiny(movie)
		default:
			page = RenderNextData(movie)
		}
		if s.opts.Cache {
			s.cache.Store(r.URL.Path, page)
		}
		w.Write(page)
		return
	}
	if s.serveSPA(w, r) {
		return
	}
	if m := listRe.FindStringSubmatch(r.URL.Path); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n < 1 || n > s.opts.ListPages {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><html><body><h1>Movies, page %d</h1><ul>\n", n)
		for i := (n-1)*s.opts.ListSize + 1; i <= n*s.opts.ListSize; i++ {
			fmt.Fprintf(w, "<li><a class=\"movie\" href=\"/title/%s/fullcredits\">Movie %d</a></li>\n", ID(i), i)
		}
		fmt.Fprintf(w, "</ul>")
		if n < s.opts.ListPages {
			fmt.Fprintf(w, "<a class=\"next\" href=\"/list/%d\">next</a>", n+1)
		}
		fmt.Fprintf(w, "</body></html>")
		return
	}
	http.NotFound(w, r)
}

func (s *Site) serveRobots(w http.ResponseWriter) {
	if s.opts.RobotsStatus != 0 {
		w.WriteHeader(s.opts.RobotsStatus)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	if s.opts.Robots == "" {
		fmt.Fprint(w, "User-agent: *\nAllow: /\n")
		return
	}
	fmt.Fprint(w, s.opts.Robots)
}

// wait sleeps for the page's latency; false means the client went away.
func (s *Site) wait(ctx context.Context, path string) bool {
	d := s.opts.Latency
	if s.opts.Jitter > 0 {
		h := fnv.New64a()
		h.Write([]byte(path))
		span := int64(2*s.opts.Jitter) + 1
		d += time.Duration(int64(h.Sum64()%uint64(span))) - s.opts.Jitter
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Site) record(path string) int {
	if !s.opts.Track && s.opts.Fault == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	attempt := s.counts[path]
	s.counts[path]++
	if s.opts.Track {
		s.log = append(s.log, Request{Path: path, At: time.Now()})
	}
	return attempt
}

func (s *Site) noteFault(path string, f Fault) {
	if !s.opts.Track {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.log) - 1; i >= 0; i-- {
		if s.log[i].Path == path {
			s.log[i].Fault = f
			return
		}
	}
}

// InFlight is the number of requests being served now.
func (s *Site) InFlight() int64 { return s.inFlight.Load() }

// MaxInFlight is the most requests served at once so far.
func (s *Site) MaxInFlight() int64 { return s.maxInFlight.Load() }

// Total is the number of requests served, robots.txt included.
func (s *Site) Total() int64 { return s.total.Load() }

// Count is how many times path was requested (with Options.Track).
func (s *Site) Count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[path]
}

// Counts returns a copy of the per-path request counts (with Track).
func (s *Site) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Log returns a copy of the request log (with Track).
func (s *Site) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Server is a running site on a loopback address.
type Server struct {
	*Site
	URL  string // base URL, e.g. http://127.0.0.1:41234
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Start serves the site on addr (e.g. "127.0.0.1:0" for a free port) until
// Close.
func (s *Site) Start(addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo site: listen on %s: %w", addr, err)
	}
	srv := &Server{Site: s, URL: "http://" + ln.Addr().String(), ln: ln, done: make(chan error, 1),
		srv: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}}
	go func() { srv.done <- srv.srv.Serve(ln) }()
	return srv, nil
}

// Close stops the server, cutting open connections, and waits for it.
func (s *Server) Close() error {
	err := s.srv.Close()
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}

// Host is the server's host:port.
func (s *Server) Host() string { return strings.TrimPrefix(s.URL, "http://") }
