package frontier

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// A page's outcome on its way from a worker to the sink: JSON, so that an
// entry of the results stream can be read with redis-cli, with each value
// tagged by its type so that the sink stores exactly what the worker
// extracted (JSON alone would make every integer a float).

type wireResult struct {
	URL        string     `json:"u"`
	Status     string     `json:"s"`
	HTTPStatus int        `json:"h,omitempty"`
	Attempts   int        `json:"a,omitempty"`
	Error      string     `json:"e,omitempty"`
	Warnings   []string   `json:"w,omitempty"`
	Bytes      int64      `json:"b,omitempty"`
	FetchedAt  time.Time  `json:"t"`
	Depth      int        `json:"d,omitempty"`
	FetchedBy  string     `json:"f,omitempty"`
	Items      []wireItem `json:"i,omitempty"`
	Links      []wireLink `json:"l,omitempty"`
	// Archive is where the worker archived the response (its own files).
	Archive *storage.ArchiveRef `json:"r,omitempty"`
}

type wireItem struct {
	Table string    `json:"t"`
	Rows  []wireRow `json:"r"`
}

type wireRow struct {
	Values []*string `json:"v"` // nil: NULL; else a type letter and the value
	Index  int       `json:"x,omitempty"`
}

type wireLink struct {
	URL   string `json:"u"`
	Depth int    `json:"d"`
}

func encodeValue(v any) (*string, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		s = "s" + x
	case int64:
		s = "i" + strconv.FormatInt(x, 10)
	case int:
		s = "i" + strconv.Itoa(x)
	case float64:
		s = "f" + strconv.FormatUint(math.Float64bits(x), 16)
	case bool:
		s = "b" + strconv.FormatBool(x)
	case []byte:
		s = "x" + base64.StdEncoding.EncodeToString(x)
	default:
		return nil, fmt.Errorf("frontier: a value of type %T cannot be handed to the sink", v)
	}
	return &s, nil
}

func decodeValue(p *string) (any, error) {
	if p == nil {
		return nil, nil
	}
	s := *p
	if s == "" {
		return nil, fmt.Errorf("frontier: empty value in a result")
	}
	body := s[1:]
	switch s[0] {
	case 's':
		return body, nil
	case 'i':
		return strconv.ParseInt(body, 10, 64)
	case 'f':
		bits, err := strconv.ParseUint(body, 16, 64)
		return math.Float64frombits(bits), err
	case 'b':
		return strconv.ParseBool(body)
	case 'x':
		return base64.StdEncoding.DecodeString(body)
	}
	return nil, fmt.Errorf("frontier: value of unknown type %q in a result", s[0])
}

func encodeResult(p storage.Page, links []crawler.Link) ([]byte, error) {
	w := wireResult{URL: p.URL, Status: p.Status, HTTPStatus: p.HTTPStatus, Attempts: p.Attempts, Error: p.Error,
		Warnings: p.Warnings, Bytes: p.Bytes, FetchedAt: p.FetchedAt.UTC(), Depth: p.Depth, FetchedBy: p.FetchedBy, Archive: p.Archive}
	for _, it := range p.Items {
		wi := wireItem{Table: it.Table, Rows: make([]wireRow, len(it.Rows))}
		for i, row := range it.Rows {
			wr := wireRow{Values: make([]*string, len(row.Values)), Index: row.Index}
			for j, v := range row.Values {
				s, err := encodeValue(v)
				if err != nil {
					return nil, err
				}
				wr.Values[j] = s
			}
			wi.Rows[i] = wr
		}
		w.Items = append(w.Items, wi)
	}
	for _, l := range links {
		w.Links = append(w.Links, wireLink(l))
	}
	return json.Marshal(w)
}

func decodeResult(b []byte) (storage.Page, []crawler.Link, error) {
	var w wireResult
	if err := json.Unmarshal(b, &w); err != nil {
		return storage.Page{}, nil, fmt.Errorf("frontier: a result that does not decode: %w", err)
	}
	p := storage.Page{URL: w.URL, Status: w.Status, HTTPStatus: w.HTTPStatus, Attempts: w.Attempts, Error: w.Error,
		Warnings: w.Warnings, Bytes: w.Bytes, FetchedAt: w.FetchedAt, Depth: w.Depth, FetchedBy: w.FetchedBy, Archive: w.Archive}
	for _, wi := range w.Items {
		it := storage.ItemRows{Table: wi.Table, Rows: make([]storage.Row, len(wi.Rows))}
		for i, wr := range wi.Rows {
			row := storage.Row{Values: make([]any, len(wr.Values)), Index: wr.Index}
			for j, s := range wr.Values {
				v, err := decodeValue(s)
				if err != nil {
					return storage.Page{}, nil, err
				}
				row.Values[j] = v
			}
			it.Rows[i] = row
		}
		p.Items = append(p.Items, it)
	}
	links := make([]crawler.Link, len(w.Links))
	for i, l := range w.Links {
		links[i] = crawler.Link(l)
	}
	return p, links, nil
}
