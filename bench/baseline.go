// Package bench measures gather against a plain, hand-written colly program
// doing the same work: the tutorial's experiment (time against pages,
// sequential and parallel) and the throughput and memory targets.
package bench

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"

	"github.com/gocolly/colly/v2"
	"github.com/tidwall/gjson"
)

// PlainColly is the program a careful colly user writes by hand for the
// same job: an async collector with a LimitRule, OnHTML on the
// __NEXT_DATA__ script, gjson for the fields, and one SQLite connection
// writing each page's rows in a transaction with prepared statements. It
// visits every URL up front, as colly's examples do, which is why its memory
// grows with the id list.
type PlainColly struct {
	Parallelism int
	DB          *sql.DB // opened by the caller; its tables are created here

	tally
}

// tally is what a plain program counts while it crawls, and its first
// failure. Pages are written one at a time, on the one connection.
type tally struct {
	pages, rows atomic.Int64
	mu          sync.Mutex
	err         error
}

func (t *tally) fail(err error) {
	t.mu.Lock()
	if t.err == nil {
		t.err = err
	}
	t.mu.Unlock()
}

// write stores a page's rows in one transaction and counts them.
func (t *tally) write(db *sql.DB, url string, tables []plainTable) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := writeRows(db, url, tables); err != nil {
		if t.err == nil {
			t.err = err
		}
		return
	}
	t.pages.Add(1)
	for _, tb := range tables {
		t.rows.Add(int64(len(tb.rows)))
	}
}

// result is what Run returns: the pages stored, the rows written, the
// first failure.
func (t *tally) result() (pages, rows int64, err error) {
	return t.pages.Load(), t.rows.Load(), t.err
}

// plainCollector is how both plain programs start: an async collector with
// one LimitRule for every host.
func plainCollector(ctx context.Context, parallelism int) (*colly.Collector, error) {
	c := colly.NewCollector(colly.Async(true), colly.StdlibContext(ctx), colly.AllowURLRevisit())
	if err := c.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: parallelism}); err != nil {
		return nil, err
	}
	return c, nil
}

// PlainSchema is the plain program's tables: the fields of config.yaml's
// items and the page URL, keyed as config.yaml keys them.
const PlainSchema = `
CREATE TABLE IF NOT EXISTS movies (movie_id TEXT PRIMARY KEY, title TEXT, year INTEGER, url TEXT);
CREATE TABLE IF NOT EXISTS cast (movie_id TEXT, person_id TEXT, name TEXT, character TEXT, characters TEXT, url TEXT, PRIMARY KEY (movie_id, person_id));
CREATE TABLE IF NOT EXISTS crew (movie_id TEXT, section TEXT, person_id TEXT, name TEXT, credit TEXT, url TEXT, PRIMARY KEY (movie_id, section, person_id, credit));`

// Run crawls urls and returns the pages stored and rows written.
func (p *PlainColly) Run(ctx context.Context, urls []string) (pages, rows int64, err error) {
	if _, err := p.DB.ExecContext(ctx, PlainSchema); err != nil {
		return 0, 0, err
	}
	c, err := plainCollector(ctx, p.Parallelism)
	if err != nil {
		return 0, 0, err
	}
	c.OnHTML("script#__NEXT_DATA__", func(e *colly.HTMLElement) {
		p.store(e.Request.URL.String(), e.Text)
	})
	c.OnError(func(r *colly.Response, err error) { p.fail(fmt.Errorf("%s: %w", r.Request.URL, err)) })
	for _, u := range urls {
		if err := c.Visit(u); err != nil {
			p.fail(err)
		}
	}
	c.Wait()
	return p.result()
}

// titleID takes the movie id of cast and crew rows from the page URL, as
// config.yaml does; the movies row takes its id from the page's JSON.
var titleID = regexp.MustCompile(`/title/(tt[0-9]+)/`)

func (p *PlainColly) store(url, js string) {
	em := gjson.Get(js, "props.pageProps.contentData.entityMetadata")
	var movieID string
	if m := titleID.FindStringSubmatch(url); m != nil {
		movieID = m[1]
	}
	movie := []any{em.Get("id").String(), em.Get("titleText.text").String(), em.Get("releaseYear.year").Int()}
	var cast, crew [][]any
	gjson.Get(js, "props.pageProps.contentData.categories").ForEach(func(_, cat gjson.Result) bool {
		section := cat.Get("id").String()
		cat.Get("section.items").ForEach(func(_, it gjson.Result) bool {
			if section == "cast" {
				var first, all any
				if ch := it.Get("characters"); ch.Exists() {
					first, all = ch.Get("0").String(), ch.Raw
				}
				cast = append(cast, []any{movieID, it.Get("id").String(), it.Get("rowTitle").String(), first, all})
			} else {
				// No note is "", as the shipped config's default: the
				// credit is part of the key.
				credit := it.Get("attributes").String()
				crew = append(crew, []any{movieID, section, it.Get("id").String(), it.Get("rowTitle").String(), credit})
			}
			return true
		})
		return true
	})
	p.write(p.DB, url, plainTables(movie, cast, crew))
}

// WritePlain stores one page's rows as the plain program does: one
// transaction, INSERT OR REPLACE row by row through prepared statements.
// Rows are the field values of config.yaml's items; each gets the page
// URL as its last column.
func WritePlain(db *sql.DB, url string, movie []any, cast, crew [][]any) error {
	return writeRows(db, url, plainTables(movie, cast, crew))
}

func plainTables(movie []any, cast, crew [][]any) []plainTable {
	return []plainTable{
		{"INSERT OR REPLACE INTO movies VALUES (?, ?, ?, ?)", [][]any{movie}},
		{"INSERT OR REPLACE INTO cast VALUES (?, ?, ?, ?, ?, ?)", cast},
		{"INSERT OR REPLACE INTO crew VALUES (?, ?, ?, ?, ?, ?)", crew},
	}
}

// plainTable is one table's rows of a page and the statement that stores
// a row, the page URL appended.
type plainTable struct {
	insert string
	rows   [][]any
}

func writeRows(db *sql.DB, url string, tables []plainTable) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range tables {
		st, err := tx.Prepare(t.insert)
		if err != nil {
			return err
		}
		for _, r := range t.rows {
			if _, err := st.Exec(append(r, url)...); err != nil {
				st.Close()
				return err
			}
		}
		st.Close()
	}
	return tx.Commit()
}
