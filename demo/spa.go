package demo

import (
	"fmt"
	"net/http"
	"regexp"
	"sync"
)

// The spa layout: the credits page is an empty shell whose script fetches
// the page's data as JSON and builds the page from it, as a client-rendered
// Next.js page does. A plain HTTP client sees no data at all; a browser
// sees what today's layout shows, the __NEXT_DATA__ script included, so the
// shipped config reads it unchanged.

var (
	spaRe = regexp.MustCompile(`^/spa/title/(tt[0-9]{7,10})/fullcredits/?$`)
	apiRe = regexp.MustCompile(`^/api/title/(tt[0-9]{7,10})/credits$`)
)

// SpaURL is the path of id's credits page in the spa layout.
func SpaURL(base, id string) string { return base + "/spa/title/" + id + "/fullcredits" }

const spaShell = `<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8"><title>IMDb</title></head>
<body><div id="__next"><main><p class="loading">Loading…</p></main></div><script src="/spa/app.js"></script></body></html>`

const spaApp = `(async () => {
  const id = location.pathname.split('/')[3];
  const r = await fetch('/api/title/' + id + '/credits', {headers: {Accept: 'application/json'}});
  const d = await r.json();
  const m = d.props.pageProps.contentData;
  document.title = m.entityMetadata.titleText.text + ' (' + m.entityMetadata.releaseYear.year + ') - Full cast & crew - IMDb';
  const main = document.querySelector('main');
  main.textContent = '';
  const h1 = document.createElement('h1');
  h1.textContent = m.entityMetadata.titleText.text;
  main.appendChild(h1);
  for (const c of m.categories) {
    const h = document.createElement('h3');
    h.textContent = c.name;
    main.appendChild(h);
    const ul = document.createElement('ul');
    for (const it of c.section.items) {
      const li = document.createElement('li');
      li.textContent = it.rowTitle;
      ul.appendChild(li);
    }
    main.appendChild(ul);
  }
  const s = document.createElement('script');
  s.id = '__NEXT_DATA__';
  s.type = 'application/json';
  s.textContent = JSON.stringify(d);
  document.body.appendChild(s);
})();`

// serveSPA serves the spa layout's shell, script and JSON; false: not
// one of its paths.
func (s *Site) serveSPA(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.URL.Path == "/spa/app.js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		fmt.Fprint(w, spaApp)
	case spaRe.MatchString(r.URL.Path):
		s.spa.open(spaRe.FindStringSubmatch(r.URL.Path)[1])
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, spaShell)
	case apiRe.MatchString(r.URL.Path):
		id := apiRe.FindStringSubmatch(r.URL.Path)[1]
		defer s.spa.done(id)
		v := 0
		if s.opts.Version != nil {
			v = s.opts.Version(id)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(NextDataJSON(MovieFor(id, v)))
	default:
		return false
	}
	return true
}

// spaLoads counts the spa pages clients are loading: a page is open from
// its shell's request until its data has been sent, the span a browser
// tab spends on it at the site. Its peak is the number of tabs that were
// at work at once, measured at the server.
type spaLoads struct {
	mu        sync.Mutex
	loading   map[string]bool
	now, peak int
	served    int64
}

func (l *spaLoads) open(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.loading == nil {
		l.loading = map[string]bool{}
	}
	if l.loading[id] {
		return // the shell again (a reload): the same page
	}
	l.loading[id] = true
	l.now++
	l.peak = max(l.peak, l.now)
}

func (l *spaLoads) done(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.loading[id] {
		delete(l.loading, id)
		l.now--
	}
	l.served++
}

// SpaPeak is the most spa pages that were being loaded at once: from a
// shell's request to the end of its data's.
func (s *Site) SpaPeak() int {
	s.spa.mu.Lock()
	defer s.spa.mu.Unlock()
	return s.spa.peak
}

// SpaServed counts the spa pages whose data was sent.
func (s *Site) SpaServed() int64 {
	s.spa.mu.Lock()
	defer s.spa.mu.Unlock()
	return s.spa.served
}
