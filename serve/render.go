package serve

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"
)

// page is one page's template: the layout plus the page's content.
type page struct{ t *template.Template }

// pageNames are the templates under templates/, one per page.
var pageNames = []string{"runs", "run", "failures", "page", "tables", "table", "sql", "error"}

// cellLimit is how much of a value a cell shows; the row's export has it
// whole. A 1 MB value would otherwise be a 1 MB cell.
const cellLimit = 300

func parsePages(base string) (map[string]*page, error) {
	funcs := template.FuncMap{
		"base":    func() string { return base },
		"cell":    cell,
		"isHTTP":  isHTTP,
		"num":     num,
		"when":    when,
		"keyText": keyText,
		"pageLink": func(u string) string {
			return base + "/page?" + url.Values{"url": {u}}.Encode()
		},
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*page{}
	for _, n := range pageNames {
		t, err := template.Must(layout.Clone()).ParseFS(files, "templates/"+n+".html")
		if err != nil {
			return nil, err
		}
		out[n] = &page{t: t}
	}
	return out, nil
}

// render executes a page into a buffer first, so that a template error is
// a 500 rather than half a page.
func (s *server) render(w http.ResponseWriter, name string, status int, data map[string]any) {
	var b bytes.Buffer
	if err := s.pages[name].t.ExecuteTemplate(&b, "layout.html", data); err != nil {
		s.log.Error("rendering a page", "page", name, "error", err)
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// fail shows an error page; the message is escaped like any value.
func (s *server) fail(w http.ResponseWriter, status int, title string, err error) {
	s.render(w, "error", status, map[string]any{"Title": title, "Error": err.Error()})
}

// cell is a value as a table cell shows it: NULL marked, blobs in hex,
// long text cut.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "∅"
	case []byte:
		if len(x) > cellLimit/2 {
			return "x'" + hex.EncodeToString(x[:cellLimit/2]) + "…' (" + strconv.Itoa(len(x)) + " bytes)"
		}
		return "x'" + hex.EncodeToString(x) + "'"
	case string:
		return cut(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return cut(fmt.Sprint(v))
}

func cut(s string) string {
	if len(s) <= cellLimit {
		return s
	}
	i := cellLimit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// isHTTP reports whether v is an absolute http(s) URL, the only kind shown
// as a link: javascript:, data: and relative URLs stay text.
func isHTTP(v any) bool {
	s, ok := v.(string)
	if !ok || len(s) > 8192 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func num(v any) string {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "–"
		}
		return strconv.FormatFloat(x, 'f', 1, 64)
	case time.Duration:
		return x.Round(100 * time.Millisecond).String()
	}
	return fmt.Sprint(v)
}

// when shows a stored RFC 3339 time without its milliseconds.
func when(s string) string {
	if s == "" {
		return "–"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// queryOf copies a query, with the given keys set (or, with "", deleted).
func queryOf(q url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

// since parses a stored time; zero on error.
func since(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
