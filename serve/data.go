package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gather-crawler/gather/output"
	"github.com/gather-crawler/gather/storage"
)

// Table pages take their view from the query string:
//
//	sort=COL, desc=1      order (the key breaks ties)
//	f.COL=VALUE           COL equals VALUE; "~VALUE" contains it; "is:null" is NULL
//	facet=COL (repeated)  top values of COL with counts
//	after=CURSOR          the page after CURSOR (a JSON array of the last row's sort and key values)
const (
	pageSize    = 100
	facetValues = 10
	// facetTimeout bounds each facet, so that a facet over millions of rows
	// makes its own box say so instead of holding the page: grouping a
	// column without an index sorts every row the filters keep (about
	// 250 ms for a million on a small machine). Filter first, and the
	// facet fits.
	facetTimeout = 150 * time.Millisecond
)

func (s *server) tables(w http.ResponseWriter, r *http.Request) {
	ts, err := s.opts.Reader.TableCounts(r.Context())
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Data", err)
		return
	}
	s.render(w, "tables", http.StatusOK, map[string]any{"Title": "Data", "Tables": ts})
}

// browseOf reads a table view from the query string.
func browseOf(t storage.TableInfo, q url.Values) (storage.Browse, error) {
	b := storage.Browse{Sort: q.Get("sort"), Desc: q.Get("desc") == "1"}
	for k, vs := range q {
		col, ok := strings.CutPrefix(k, "f.")
		if !ok || len(vs) == 0 || vs[0] == "" {
			continue
		}
		f := storage.Filter{Column: col, Op: storage.FilterEquals, Value: vs[0]}
		switch {
		case vs[0] == "is:null":
			f.Op, f.Value = storage.FilterNull, ""
		case strings.HasPrefix(vs[0], "~"):
			f.Op, f.Value = storage.FilterContains, vs[0][1:]
		}
		b.Filters = append(b.Filters, f)
	}
	if a := q.Get("after"); a != "" {
		d := json.NewDecoder(strings.NewReader(a))
		d.UseNumber()
		if err := d.Decode(&b.After); err != nil {
			return b, fmt.Errorf("after: %w", err)
		}
		for i, v := range b.After {
			if n, ok := v.(json.Number); ok {
				if iv, err := n.Int64(); err == nil {
					b.After[i] = iv
				} else if fv, err := n.Float64(); err == nil {
					b.After[i] = fv
				}
			}
		}
		if b.After == nil {
			b.After = []any{}
		}
	}
	return b, nil
}

// cursorParam encodes a cursor for the after parameter.
func cursorParam(c []any) string {
	for i, v := range c {
		if bs, ok := v.([]byte); ok {
			c[i] = string(bs)
		}
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// facet is one facet box: a column's top values, each with the link that
// filters on it.
type facet struct {
	Column string
	Values []facetLink
	Error  string
}

type facetLink struct {
	Value any
	Count int64
	Href  string
}

// header is a column heading with its sort link.
type header struct {
	Name, Href, Arrow, Filter string
	Faceted                   bool
}

func (s *server) table(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, err := s.opts.Reader.Table(ctx, r.PathValue("table"))
	if err != nil {
		s.fail(w, http.StatusNotFound, "Data", err)
		return
	}
	q := r.URL.Query()
	b, err := browseOf(t, q)
	if err != nil {
		s.fail(w, http.StatusBadRequest, t.Name, err)
		return
	}
	// Facets run beside the rows and the count, each on a connection of
	// its own: the page takes as long as the slowest, not their sum.
	var facets []facet
	var wg sync.WaitGroup
	for _, col := range q["facet"] {
		if !t.HasColumn(col) || slices.ContainsFunc(facets, func(f facet) bool { return f.Column == col }) {
			continue
		}
		facets = append(facets, facet{Column: col})
	}
	fb := b // the facets' own copy: b's Limit is set below
	for i := range facets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			facets[i] = s.facet(ctx, t, fb, q, facets[i].Column)
		}()
	}
	defer wg.Wait() // on every return, before the page's context ends
	b.Limit = pageSize + 1
	rows, err := s.opts.Reader.Rows(ctx, t, b)
	if err != nil {
		s.fail(w, http.StatusBadRequest, t.Name, err)
		return
	}
	data, err := scanAll(rows, len(t.Columns), pageSize+1)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, t.Name, err)
		return
	}
	var next string
	if len(data) > pageSize {
		data = data[:pageSize]
		next = s.link("/data/"+t.Name, queryOf(q, "after", cursorParam(b.Cursor(t, data[len(data)-1]))))
	}
	count, err := s.opts.Reader.Count(ctx, t, b)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, t.Name, err)
		return
	}
	wg.Wait()
	faceted := map[string]bool{}
	for _, f := range facets {
		faceted[f.Column] = true
	}
	var heads []header
	for _, c := range t.Columns {
		h := header{Name: c, Filter: q.Get("f." + c), Faceted: faceted[c]}
		sortQ := queryOf(q, "sort", c, "desc", "", "after", "")
		if b.Sort == c && !b.Desc {
			sortQ.Set("desc", "1")
		}
		if b.Sort == c {
			h.Arrow = map[bool]string{false: "▲", true: "▼"}[b.Desc]
		}
		h.Href = s.link("/data/"+t.Name, sortQ)
		heads = append(heads, h)
	}
	urlCol := -1
	for i, c := range t.Columns {
		if c == storage.ColURL {
			urlCol = i
		}
	}
	exportQ := queryOf(q, "after", "")
	exportQ.Del("facet")
	s.render(w, "table", http.StatusOK, map[string]any{
		"Title":   t.Name,
		"Table":   t,
		"Heads":   heads,
		"Rows":    data,
		"URLCol":  urlCol,
		"Count":   count,
		"Next":    next,
		"First":   q.Get("after") != "",
		"FirstQ":  s.link("/data/"+t.Name, queryOf(q, "after", "")),
		"Facets":  facets,
		"Hidden":  hiddenFields(q),
		"Keep":    pairs(queryOf(q, "after", "")),
		"CSV":     s.link("/export/"+t.Name, queryOf(exportQ, "format", "csv")),
		"JSON":    s.link("/export/"+t.Name, queryOf(exportQ, "format", "json")),
		"Sort":    b.Sort,
		"Desc":    b.Desc,
		"Filters": b.Filters,
		// Compact (the default) cuts each cell to one line, a click
		// shows it whole; full=1 shows every cell whole.
		"Full":    q.Get("full") == "1",
		"ToggleQ": s.link("/data/"+t.Name, queryOf(q, "full", map[bool]string{true: "", false: "1"}[q.Get("full") == "1"])),
	})
}

// hiddenFields keeps a view's sort and facets when its filter form is sent.
func hiddenFields(q url.Values) [][2]string {
	var out [][2]string
	for _, k := range []string{"sort", "desc", "full"} {
		if v := q.Get(k); v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	for _, v := range q["facet"] {
		out = append(out, [2]string{"facet", v})
	}
	return out
}

// pairs lists a query's values in key order, for hidden form fields.
func pairs(q url.Values) [][2]string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out [][2]string
	for _, k := range keys {
		for _, v := range q[k] {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

func (s *server) facet(ctx context.Context, t storage.TableInfo, b storage.Browse, q url.Values, col string) facet {
	fctx, cancel := context.WithTimeout(ctx, facetTimeout)
	defer cancel()
	f := facet{Column: col}
	vals, err := s.opts.Reader.Facet(fctx, t, b, col, facetValues)
	if err != nil {
		if fctx.Err() != nil {
			f.Error = fmt.Sprintf("stopped after %s: too many rows to count in time; filter first", facetTimeout)
		} else {
			f.Error = err.Error()
		}
		return f
	}
	for _, v := range vals {
		fv := "is:null"
		if v.Value != nil {
			fv = cellText(v.Value)
		}
		f.Values = append(f.Values, facetLink{Value: v.Value, Count: v.Count,
			Href: s.link("/data/"+t.Name, queryOf(q, "f."+col, fv, "after", ""))})
	}
	return f
}

// cellText is a value as a filter matches it.
func cellText(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// scanAll reads at most n rows of width columns and closes rows.
func scanAll(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}, width, n int) ([][]any, error) {
	defer rows.Close()
	var out [][]any
	for len(out) < n && rows.Next() {
		vals := make([]any, width)
		ptrs := make([]any, width)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return out, err
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

// exportFormat picks CSV or JSON and sets the headers of a download.
func exportFormat(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	switch f := r.URL.Query().Get("format"); f {
	case output.CSV, "":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		return output.CSV, true
	case output.JSON:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
		return output.JSON, true
	}
	http.Error(w, "format: csv or json", http.StatusBadRequest)
	return "", false
}

// exportTable streams a table view, every row the filters keep, in its
// order. Memory stays flat: rows go from SQLite to the response one by one.
func (s *server) exportTable(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, err := s.opts.Reader.Table(ctx, r.PathValue("table"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	b, err := browseOf(t, r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rows, err := s.opts.Reader.Rows(ctx, t, b)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer rows.Close()
	format, ok := exportFormat(w, r, t.Name)
	if !ok {
		return
	}
	if _, err := output.Write(w, format, rows); err != nil && !errors.Is(ctx.Err(), context.Canceled) {
		// The status line is gone; the log says why the file ended early.
		s.log.Warn("export stopped", "table", t.Name, "error", err)
	}
}
