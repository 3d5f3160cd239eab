package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
)

// The JSON shape of today's IMDB full-credits page, as far as gather's
// shipped config reads it (see ../shared/fixtures), plus the kind of
// surrounding data that makes real pages large.
type nextData struct {
	Props struct {
		PageProps struct {
			ContentData struct {
				EntityMetadata entityMetadata `json:"entityMetadata"`
				Categories     []category     `json:"categories"`
			} `json:"contentData"`
		} `json:"pageProps"`
	} `json:"props"`
	Page  string `json:"page"`
	Query struct {
		TConst string `json:"tconst"`
	} `json:"query"`
	BuildID string `json:"buildId"`
}

type entityMetadata struct {
	ID          string `json:"id"`
	TitleText   text   `json:"titleText"`
	ReleaseYear struct {
		Year    int  `json:"year"`
		EndYear *int `json:"endYear"`
	} `json:"releaseYear"`
	TitleType struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	} `json:"titleType"`
}

type text struct {
	Text string `json:"text"`
}

type category struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Section struct {
		Items []creditItem `json:"items"`
		Total int          `json:"total"`
	} `json:"section"`
}

type creditItem struct {
	ID         string     `json:"id"`
	RowTitle   string     `json:"rowTitle"`
	IsCast     bool       `json:"isCast"`
	Characters []string   `json:"characters,omitempty"`
	Attributes string     `json:"attributes,omitempty"`
	ImageProps imageProps `json:"imageProps"`
	ClassName  string     `json:"className"`
}

type imageProps struct {
	ImageModel struct {
		URL       string `json:"url"`
		MaxHeight int    `json:"maxHeight"`
		MaxWidth  int    `json:"maxWidth"`
		Caption   string `json:"caption"`
	} `json:"imageModel"`
	ImageType string `json:"imageType"`
}

func image(pid, name string) imageProps {
	var p imageProps
	p.ImageModel.URL = "https://m.media-amazon.example/images/M/MV5B" + pid + "XkFtZTcwMTM3NjQxMw@@._V1_.jpg"
	p.ImageModel.MaxHeight, p.ImageModel.MaxWidth = 400, 266
	p.ImageModel.Caption = name + " at an event"
	p.ImageType = "name"
	return p
}

// RenderNextData renders m as a page in today's layout.
func RenderNextData(m Movie) []byte { return renderNextData(m, true) }

// TinyMovie is m cut down to its first two cast members and first crew
// credit: the page RenderTiny serves and its ground truth.
func TinyMovie(m Movie) Movie {
	m.Cast = m.Cast[:min(2, len(m.Cast))]
	m.Crew = m.Crew[:min(1, len(m.Crew))]
	return m
}

// RenderTiny renders TinyMovie(m) in today's layout without the page
// chrome: about 2 KB, for runs over a million ids where only the crawler's
// own memory matters.
func RenderTiny(m Movie) []byte { return renderNextData(TinyMovie(m), false) }

func renderNextData(m Movie, chrome bool) []byte {
	js := NextDataJSON(m)
	var b bytes.Buffer
	b.Grow(len(js) + 16<<10)
	fmt.Fprintf(&b, `<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8"><title>%s (%d) - Full cast &amp; crew - IMDb</title></head><body>`,
		html.EscapeString(m.Title), m.Year)
	if chrome {
		writeChrome(&b, m)
	}
	b.WriteString(`<script id="__NEXT_DATA__" type="application/json">`)
	b.Write(js)
	b.WriteString(`</script></body></html>`)
	return b.Bytes()
}

// NextDataJSON is m's page data as today's layout carries it in its
// __NEXT_DATA__ script (and the spa layout serves it to its script).
func NextDataJSON(m Movie) []byte {
	var nd nextData
	cd := &nd.Props.PageProps.ContentData
	cd.EntityMetadata.ID = m.ID
	cd.EntityMetadata.TitleText.Text = m.Title
	cd.EntityMetadata.ReleaseYear.Year = m.Year
	cd.EntityMetadata.TitleType.ID, cd.EntityMetadata.TitleType.Text = "movie", "Movie"
	nd.Page, nd.Query.TConst, nd.BuildID = "/title/[tconst]/fullcredits", m.ID, "demo-build"

	seen := map[string]bool{}
	var order []string
	addCat := func(id, name string) {
		if !seen[id] {
			seen[id] = true
			cd.Categories = append(cd.Categories, category{ID: id, Name: name})
			order = append(order, id)
		}
	}
	// Director and writer come before cast, as on the real page.
	for _, c := range m.Crew {
		if c.Section == "director" || c.Section == "writer" {
			addCat(c.Section, c.SectionName)
		}
	}
	addCat("cast", "Cast")
	for _, c := range m.Crew {
		addCat(c.Section, c.SectionName)
	}
	idx := map[string]int{}
	for i, id := range order {
		idx[id] = i
	}
	for _, c := range m.Cast {
		cat := &cd.Categories[idx["cast"]]
		cat.Section.Items = append(cat.Section.Items, creditItem{ID: c.PersonID, RowTitle: c.Name, IsCast: true,
			Characters: c.Characters, ImageProps: image(c.PersonID, c.Name), ClassName: "full-credits-page-list-item"})
	}
	for _, c := range m.Crew {
		cat := &cd.Categories[idx[c.Section]]
		cat.Section.Items = append(cat.Section.Items, creditItem{ID: c.PersonID, RowTitle: c.Name, Attributes: c.Note,
			ImageProps: image(c.PersonID, c.Name), ClassName: "full-credits-page-list-item"})
	}
	for i := range cd.Categories {
		cd.Categories[i].Section.Total = len(cd.Categories[i].Section.Items)
	}
	js, err := json.Marshal(&nd) // escapes <, > and & so the script cannot end early
	if err != nil {
		panic(err) // only plain types above
	}
	return js
}

// writeChrome adds the navigation and markup around the data that real
// pages carry, so the tokenizer and parser do realistic work.
func writeChrome(b *bytes.Buffer, m Movie) {
	b.WriteString(`<div id="__next"><nav class="ipc-page-navbar"><ul>`)
	for i := 0; i < 200; i++ {
		fmt.Fprintf(b, `<li class="ipc-list__item"><a href="/chart/menu-%d/?ref_=nv_%d" class="ipc-list__item nav-link">Menu entry %d</a></li>`, i, i, i)
	}
	b.WriteString(`</ul></nav><main><section class="ipc-page-section">`)
	fmt.Fprintf(b, `<h1 class="ipc-title__text">%s</h1>`, html.EscapeString(m.Title))
	for _, c := range m.Cast {
		fmt.Fprintf(b, `<div class="sc-credit-row"><a href="/name/%s/?ref_=ttfc_fc_cst">%s</a></div>`, c.PersonID, html.EscapeString(c.Name))
	}
	b.WriteString(`</section></main></div>`)
}
