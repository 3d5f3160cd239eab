package demo

import (
	"bytes"
	"testing"

	"github.com/tidwall/gjson"
)

// Today's layout lists each credit category once, cast among them, with
// every credit of the ground truth in it.
func TestRenderNextData_MatchesGroundTruth(t *testing.T) {
	for _, id := range IDs(30) {
		m := MovieFor(id, 0)
		page := RenderNextData(m)
		start := bytes.Index(page, []byte(`type="application/json">`)) + len(`type="application/json">`)
		end := bytes.LastIndex(page, []byte("</script>"))
		js := string(page[start:end])
		if !gjson.Valid(js) {
			t.Fatalf("%s: __NEXT_DATA__ is not valid JSON", id)
		}
		seen := map[string]bool{}
		items := 0
		gjson.Get(js, "props.pageProps.contentData.categories").ForEach(func(_, c gjson.Result) bool {
			cat := c.Get("id").String()
			if seen[cat] {
				t.Errorf("%s: category %s listed twice", id, cat)
			}
			seen[cat] = true
			n := int(c.Get("section.items.#").Int())
			if c.Get("section.total").Int() != int64(n) {
				t.Errorf("%s: %s total %d, items %d", id, cat, c.Get("section.total").Int(), n)
			}
			items += n
			return true
		})
		if items != len(m.Cast)+len(m.Crew) {
			t.Errorf("%s: %d credits on the page, %d in the ground truth", id, items, len(m.Cast)+len(m.Crew))
		}
	}
}

func TestMovieFor_DeterministicAndVersioned(t *testing.T) {
	a, b := MovieFor(ID(5), 0), MovieFor(ID(5), 0)
	if a.Title != b.Title || len(a.Cast) != len(b.Cast) || a.Cast[0].PersonID != b.Cast[0].PersonID {
		t.Error("MovieFor is not deterministic")
	}
	if v1 := MovieFor(ID(5), 1); v1.Cast[7%len(v1.Cast)].Characters[0] != "Revised Role 1" {
		t.Errorf("version 1 did not revise a role")
	}
	if v2 := MovieFor(ID(5), 2); len(v2.Cast) != len(a.Cast)+1 {
		t.Errorf("version 2 did not add a cast member")
	}
}

func TestParseFaults(t *testing.T) {
	rates, err := ParseFaults("500=0.1, 429=0.05,reset=0.02")
	if err != nil || len(rates) != 3 || rates[1].Fault != FaultTooManyRequests {
		t.Fatalf("%v %v", rates, err)
	}
	for _, bad := range []string{"500", "nope=0.1", "500=2", "500=x"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	f := RandomFaults(rates)
	n := 0
	for i := 0; i < 10000; i++ {
		if f("/title/"+ID(i)+"/fullcredits", 0) != FaultNone {
			n++
		}
	}
	if n < 1400 || n > 2000 {
		t.Errorf("%d of 10000 requests faulted, want about 1700", n)
	}
	if first, again := f("/x", 3), f("/x", 3); first != again {
		t.Error("faults are not deterministic")
	}
}
