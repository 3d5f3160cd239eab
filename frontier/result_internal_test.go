package frontier

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// An outcome reaches the sink with each value of the type the worker
// extracted: JSON alone would turn integers into floats and bytes into
// text.
func TestResult_RoundTripKeepsTypes(t *testing.T) {
	page := storage.Page{URL: "http://a.test/x", Status: storage.PageOK, HTTPStatus: 200, Attempts: 2,
		Warnings: []string{"w"}, Bytes: 10, FetchedAt: time.Date(2026, 12, 1, 3, 4, 5, 6_000_000, time.UTC), Depth: 1,
		FetchedBy: "http", Items: []storage.ItemRows{{Table: "t", Rows: []storage.Row{
			{Values: []any{nil, "", "s", int64(math.MaxInt64), int64(-1), 0.1, math.Inf(-1), math.Copysign(0, -1), true, false, []byte{0, 255}}, Index: 3},
		}}}}
	links := []crawler.Link{{URL: "http://a.test/y", Depth: 2}}
	b, err := encodeResult(page, links)
	if err != nil {
		t.Fatal(err)
	}
	got, gotLinks, err := decodeResult(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, page) || !reflect.DeepEqual(gotLinks, links) {
		t.Fatalf("round trip:\n got %#v %v\nwant %#v %v", got, gotLinks, page, links)
	}
	if math.Signbit(got.Items[0].Rows[0].Values[7].(float64)) != true {
		t.Fatal("-0 lost its sign")
	}
	if _, err := encodeResult(storage.Page{Items: []storage.ItemRows{{Rows: []storage.Row{{Values: []any{struct{}{}}}}}}}, nil); err == nil {
		t.Fatal("a value of an unknown type was encoded")
	}
}
