package crawler

import (
	"fmt"
	"sync"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler/extract"
)

// minPagesForEmptyWarning is how many pages an item must have been read on
// before a field that matched on none of them is called out. It was 5, for
// fear of calling out fields legitimately absent; but a newcomer's first
// run is often one page, and a selector typo there was silent: a field
// that stored only NULLs is worth a line, whatever the reason.
const minPagesForEmptyWarning = 1

// report tallies, over a run, how each item's fields fared, so that a
// selector with a typo, values that never convert, or records that
// overwrite each other are said at the end of the run instead of stored
// silently as NULLs.
type report struct {
	mu    sync.Mutex
	items []itemReport
	// quiet holds what stored less than the config says (silence.go).
	quiet *silences
}

type itemReport struct {
	name   string
	fields []string
	pages  int64 // pages the item was read on
	// per field: pages it yielded a value on; values that did not convert,
	// and the first of them.
	matched []int64
	failed  []int64
	example []string
	dups    int64
	key     []string
}

func newReport(cfg *config.Config) *report {
	r := &report{quiet: newSilences(cfg)}
	for _, name := range cfg.ItemOrder {
		it := cfg.Items[name]
		n := len(it.FieldOrder)
		r.items = append(r.items, itemReport{name: name, fields: it.FieldOrder, key: it.Key,
			matched: make([]int64, n), failed: make([]int64, n), example: make([]string, n)})
	}
	return r
}

// add counts one extracted page, read from pageURL.
func (r *report) add(pageURL string, res *extract.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.quiet.add(pageURL, res)
	for i, ir := range res.Items {
		if !ir.Active || i >= len(r.items) {
			continue
		}
		it := &r.items[i]
		it.pages++
		it.dups += int64(ir.DuplicateKeys)
		for j, st := range ir.Fields {
			if st.Matched {
				it.matched[j]++
			}
			if st.Failed > 0 {
				if it.failed[j] == 0 {
					it.example[j] = st.Example
				}
				it.failed[j] += int64(st.Failed)
			}
		}
	}
}

// warnings says what the run's pages showed to be wrong with the config,
// one line per item and field.
func (r *report) warnings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.quiet.followWarnings()
	for i, it := range r.items {
		quiet, hideEmpty := r.quiet.itemWarnings(i, it.name)
		out = append(out, quiet...)
		for j, f := range it.fields {
			key := fmt.Sprintf("items.%s.fields.%s", it.name, f)
			if it.failed[j] > 0 {
				out = append(out, fmt.Sprintf("%s: %d values did not convert to the field's type (e.g. %s)", key, it.failed[j], it.example[j]))
			} else if it.matched[j] == 0 && it.pages >= minPagesForEmptyWarning && !hideEmpty && !r.quiet.droppedFor(i, j) {
				out = append(out, fmt.Sprintf("%s: matched on 0 of %d %s — %s", key, it.pages, pagesWord(it.pages), r.quiet.emptyFieldHint(i, it.name)))
			}
		}
		if it.dups > 0 {
			out = append(out, fmt.Sprintf("items.%s.key: %d records shared their key (%v) with another record of the same page; only the last of each was stored — add a field to the key",
				it.name, it.dups, it.key))
		}
	}
	return out
}
