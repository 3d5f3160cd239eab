package bench

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/gocolly/colly/v2"
)

// PlainClassic is the program a careful colly user writes by hand for the
// classic table layout, storing what examples/imdb-classic.yaml stores: an
// async collector with a LimitRule, OnHTML callbacks on the heading, the
// cast rows and the crew tables reading cells with ChildText and
// ChildAttr, the page's rows gathered in the request's context and written
// in OnScraped, one SQLite connection, a transaction per page.
type PlainClassic struct {
	Parallelism int
	DB          *sql.DB // opened by the caller; its tables are created here

	tally
}

// PlainClassicSchema is the classic program's tables: the fields of
// examples/imdb-classic.yaml's items and the page URL, keyed as it keys
// them.
const PlainClassicSchema = `
CREATE TABLE IF NOT EXISTS movies (movie_id TEXT PRIMARY KEY, title TEXT, year INTEGER, url TEXT);
CREATE TABLE IF NOT EXISTS cast (movie_id TEXT, person_id TEXT, name TEXT, character TEXT, url TEXT, PRIMARY KEY (movie_id, person_id));
CREATE TABLE IF NOT EXISTS crew (movie_id TEXT, section TEXT, person_id TEXT, name TEXT, credit TEXT, url TEXT, PRIMARY KEY (movie_id, section, person_id, credit));`

// classicPage is one page's rows, gathered by the OnHTML callbacks.
type classicPage struct {
	movieID    string
	movie      []any
	cast, crew [][]any
}

var (
	personID = regexp.MustCompile(`/name/(nm[0-9]+)`)
	yearRe   = regexp.MustCompile(`([0-9]{4})`)
)

// Run crawls urls and returns the pages stored and rows written.
func (p *PlainClassic) Run(ctx context.Context, urls []string) (pages, rows int64, err error) {
	if _, err := p.DB.ExecContext(ctx, PlainClassicSchema); err != nil {
		return 0, 0, err
	}
	c, err := plainCollector(ctx, p.Parallelism)
	if err != nil {
		return 0, 0, err
	}
	page := func(r *colly.Request) *classicPage { return r.Ctx.GetAny("page").(*classicPage) }
	c.OnResponse(func(r *colly.Response) {
		pg := &classicPage{}
		if m := titleID.FindStringSubmatch(r.Request.URL.Path); m != nil {
			pg.movieID = m[1]
		}
		pg.movie = []any{pg.movieID, nil, nil}
		r.Ctx.Put("page", pg)
	})
	c.OnHTML("h3[itemprop=name]", func(e *colly.HTMLElement) {
		pg := page(e.Request)
		pg.movie[1] = orNull(e.ChildText("a"))
		if m := yearRe.FindStringSubmatch(e.ChildText("span.nobr")); m != nil {
			y, _ := strconv.ParseInt(m[1], 10, 64)
			pg.movie[2] = y
		}
	})
	c.OnHTML("table.cast_list tr.odd, table.cast_list tr.even", func(e *colly.HTMLElement) {
		m := personID.FindStringSubmatch(e.ChildAttr("td:nth-child(2) a", "href"))
		if m == nil {
			return
		}
		pg := page(e.Request)
		pg.cast = append(pg.cast, []any{pg.movieID, m[1], orNull(e.ChildText("td:nth-child(2) a")), orNull(e.ChildText("td.character"))})
	})
	c.OnHTML("table.simpleCreditsTable", func(e *colly.HTMLElement) {
		pg := page(e.Request)
		section := orNull(strings.TrimSpace(e.DOM.PrevAllFiltered("h4.dataHeaderWithBorder").First().Text()))
		e.ForEach("tr", func(_ int, row *colly.HTMLElement) {
			m := personID.FindStringSubmatch(row.ChildAttr("td.name a", "href"))
			if m == nil {
				return
			}
			pg.crew = append(pg.crew, []any{pg.movieID, section, m[1], orNull(row.ChildText("td.name a")), row.ChildText("td.credit")})
		})
	})
	c.OnScraped(func(r *colly.Response) { p.store(r.Request.URL.String(), page(r.Request)) })
	c.OnError(func(r *colly.Response, err error) { p.fail(fmt.Errorf("%s: %w", r.Request.URL, err)) })
	for _, u := range urls {
		if err := c.Visit(u); err != nil {
			p.fail(err)
		}
	}
	c.Wait()
	return p.result()
}

// orNull stores an empty cell as NULL, as gather does.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (p *PlainClassic) store(url string, pg *classicPage) {
	p.write(p.DB, url, []plainTable{
		{"INSERT OR REPLACE INTO movies VALUES (?, ?, ?, ?)", [][]any{pg.movie}},
		{"INSERT OR REPLACE INTO cast VALUES (?, ?, ?, ?, ?)", pg.cast},
		{"INSERT OR REPLACE INTO crew VALUES (?, ?, ?, ?, ?, ?)", pg.crew},
	})
}
