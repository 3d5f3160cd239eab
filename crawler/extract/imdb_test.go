package extract_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/gather-crawler/gather/crawler/extract"
)

func TestShippedConfig_NextData_Titanic(t *testing.T) {
	cfg := loadConfig(t, "config.yaml")
	ex := mustExtractor(t, cfg)
	if ex.NeedsDOM() {
		t.Error("config.yaml reads only JSON, yet the extractor would build an HTML tree")
	}
	body := nextDataPage(fixture(t, "imdb-nextdata-tt0120338-fullcredits.json"))
	res, err := ex.Extract("https://www.imdb.com/title/tt0120338/fullcredits", body, "text/html; charset=utf-8", false)
	if err != nil {
		t.Fatal(err)
	}
	movies := records(t, cfg, res, "movies")
	if len(movies) != 1 {
		t.Fatalf("movies: got %d records, want 1", len(movies))
	}
	if m := movies[0]; m["movie_id"] != "tt0120338" || m["title"] != "Titanic" || m["year"] != int64(1997) {
		t.Errorf("movie = %v", m)
	}
	cast := records(t, cfg, res, "cast")
	if len(cast) != 177 {
		t.Fatalf("cast: got %d records, want 177", len(cast))
	}
	first := cast[0]
	want := map[string]any{"_index": 1, "movie_id": "tt0120338", "person_id": "nm0000138", "name": "Leonardo DiCaprio",
		"character": "Jack Dawson", "characters": `["Jack Dawson"]`}
	if fmt.Sprint(first) != fmt.Sprint(want) {
		t.Errorf("first cast record\n got %v\nwant %v", first, want)
	}
	crew := records(t, cfg, res, "crew")
	if len(crew) != 372-177 {
		t.Errorf("crew: got %d records, want %d", len(crew), 372-177)
	}
	if c := crew[0]; c["section"] != "director" || c["person_id"] != "nm0000116" || c["name"] != "James Cameron" {
		t.Errorf("first crew record = %v", c)
	}
	if c := crew[1]; c["section"] != "writer" || c["credit"] != "written by" {
		t.Errorf("second crew record = %v", c)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
}

func TestShippedConfig_NextData_tt0101002(t *testing.T) {
	cfg := loadConfig(t, "config.yaml")
	ex := mustExtractor(t, cfg)
	body := nextDataPage(fixture(t, "imdb-nextdata-tt0101002-fullcredits.json"))
	res, err := ex.Extract("https://www.imdb.com/title/tt0101002/fullcredits", body, "text/html", false)
	if err != nil {
		t.Fatal(err)
	}
	cast := records(t, cfg, res, "cast")
	withChar := 0
	for _, c := range cast {
		if c["character"] != nil {
			withChar++
			var chars []string
			if err := json.Unmarshal([]byte(c["characters"].(string)), &chars); err != nil || len(chars) == 0 || chars[0] != c["character"] {
				t.Errorf("characters %v does not start with character %v", c["characters"], c["character"])
			}
		}
	}
	if len(cast) != 54 || withChar != 43 {
		t.Errorf("cast: %d records, %d with characters; want 54 and 43", len(cast), withChar)
	}
	if crew := records(t, cfg, res, "crew"); len(crew) != 81-54 {
		t.Errorf("crew: %d records, want %d", len(crew), 81-54)
	}
}

func TestClassicExample_tt3393786(t *testing.T) {
	cfg := loadConfig(t, "examples/imdb-classic.yaml")
	ex := mustExtractor(t, cfg)
	body := fixture(t, "imdb-classic-tt3393786-fullcredits.html")
	res, err := ex.Extract("https://www.imdb.com/title/tt3393786/fullcredits", body, "text/html", false)
	if err != nil {
		t.Fatal(err)
	}
	movies := records(t, cfg, res, "movies")
	if len(movies) != 1 || movies[0]["title"] != "Jack Reacher: Never Go Back" || movies[0]["year"] != int64(2016) || movies[0]["movie_id"] != "tt3393786" {
		t.Errorf("movies = %v", movies)
	}
	cast := records(t, cfg, res, "cast")
	if len(cast) != 162 {
		t.Fatalf("cast: got %d records, want 162", len(cast))
	}
	if c := cast[0]; c["person_id"] != "nm0000129" || c["name"] != "Tom Cruise" || c["character"] != "Jack Reacher" {
		t.Errorf("first cast record = %v", c)
	}
	crew := records(t, cfg, res, "crew")
	if len(crew) == 0 {
		t.Fatal("no crew")
	}
	if c := crew[0]; c["section"] != "Directed by" || c["name"] != "Edward Zwick" || c["credit"] != "(directed by)" {
		t.Errorf("first crew record = %v", c)
	}
	sections := map[string]bool{}
	for _, c := range crew {
		sections[c["section"].(string)] = true
	}
	// 27 headings: the cast heading and 26 crew sections.
	if len(sections) != 26 {
		t.Errorf("crew sections: got %d, want 26: %v", len(sections), sections)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
}

func TestClassicExample_ChallengePageFails(t *testing.T) {
	cfg := loadConfig(t, "examples/imdb-classic.yaml")
	ex := mustExtractor(t, cfg)
	_, err := ex.Extract("https://www.imdb.com/title/tt3393786/fullcredits", []byte("<html><body>Please verify you are human</body></html>"), "text/html", false)
	var pe *extract.PageError
	if !errors.As(err, &pe) || pe.Reason != "unexpected page: no match for table.cast_list" {
		t.Fatalf("err = %v, want unexpected page", err)
	}
}

func TestShippedConfig_MissingNextDataFails(t *testing.T) {
	cfg := loadConfig(t, "config.yaml")
	ex := mustExtractor(t, cfg)
	_, err := ex.Extract("https://www.imdb.com/title/tt0120338/fullcredits", []byte("<html><body></body></html>"), "text/html", false)
	var pe *extract.PageError
	if !errors.As(err, &pe) || pe.Reason != "unexpected page: no match for script#__NEXT_DATA__" {
		t.Fatalf("err = %v, want unexpected page", err)
	}
}
