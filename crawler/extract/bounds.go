package extract

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gather-crawler/gather/config"
)

// Bounds of one page's extraction. A page is untrusted input: whatever it
// holds, its extraction must end, soon, in bounded memory, with a page that
// is ok or failed with its reason. Go cannot stop a goroutine from outside,
// so the bounds are checked from inside: between records and values, and in
// the loops over elements, JSON members and XPath steps (budget.tick). What
// runs between two checks is linear in the page: the gjson modifiers that
// are not are refused by validation (config.JSONModifierProblem), and
// gather's own JSON checks do not recurse (jsonplan.Valid).

// Defaults for an Extractor built from a config that lacks the keys
// (config.Parse sets them; a Config built in code may not).
const (
	defaultExtractTimeout = 10 * time.Second
	defaultMaxValueSize   = 1 << 20
)

// maxModifierDepth is how deeply a JSON document read by a path with a
// gjson modifier may nest. The modifiers validation allows do not recurse,
// so this is a second guard: were one of them to recurse after all, a
// thousand levels cost it a few hundred kilobytes of stack, not the
// gigabyte a document nested millions deep would. Real documents nest a few
// dozen levels.
const maxModifierDepth = 1000

// pageYieldFactor bounds what one page may yield, values and links
// together, to this many times crawl.max_body_size: a value is at most
// max_value_size, but a page can repeat one (the text of each of 500 nested
// elements is the whole page's text) until memory runs out.
const pageYieldFactor = 4

// limits are an Extractor's bounds, from the config.
type limits struct {
	timeout  time.Duration
	maxValue int
	maxYield int
}

func newLimits(cr config.Crawl) limits {
	l := limits{timeout: cr.ExtractTimeout, maxValue: int(cr.MaxValueSize), maxYield: pageYieldFactor * int(cr.MaxBodySize)}
	if l.timeout <= 0 {
		l.timeout = defaultExtractTimeout
	}
	if l.maxValue <= 0 {
		l.maxValue = defaultMaxValueSize
	}
	if l.maxYield <= 0 {
		l.maxYield = pageYieldFactor * 10 << 20
	}
	return l
}

// budget is what one page's extraction may still spend.
type budget struct {
	limits
	ctx  context.Context
	done <-chan struct{}
	// late is set by timer once the page's time is up: reading the clock
	// at every record cost the extraction of a typical page 10%.
	late  atomic.Bool
	timer *time.Timer
	ticks uint32
	yield int // bytes of values and links so far
}

func newBudget(ctx context.Context, l limits) *budget {
	b := &budget{limits: l, ctx: ctx, done: ctx.Done()}
	b.timer = time.AfterFunc(l.timeout, func() { b.late.Store(true) })
	return b
}

// stop releases the budget's timer.
func (b *budget) stop() { b.timer.Stop() }

// abort is what a page's extraction panics with to stop where it stands;
// ExtractContext recovers it and returns err.
type abort struct{ err error }

// check stops the extraction once the run is cancelled or the page's time
// is up. It costs a few nanoseconds: call it per record and value, and
// tick in the tightest loops.
func (b *budget) check() {
	select {
	case <-b.done:
		panic(abort{context.Cause(b.ctx)})
	default:
	}
	if b.late.Load() {
		panic(abort{&PageError{Reason: fmt.Sprintf("extraction exceeded %s (crawl.extract_timeout)", b.timeout)}})
	}
}

// tick is check once every 64 calls, for loops whose steps cost little:
// elements visited, XPath moves.
func (b *budget) tick() {
	if b.ticks++; b.ticks&63 == 0 {
		b.check()
	}
}

// spend counts n bytes the page yields, and fails the page when it yields
// more than its share.
func (b *budget) spend(n int) {
	if b.yield += n; b.yield > b.maxYield {
		panic(abort{&PageError{Reason: fmt.Sprintf("extraction yielded more than %s of values and links (%d × crawl.max_body_size)",
			config.ByteSize(b.maxYield), pageYieldFactor)}})
	}
}

// tooLarge reports whether a value of n bytes exceeds max_value_size.
func (b *budget) tooLarge(n int) bool { return n > b.maxValue }

// tooLargeMsg is the page warning for a value dropped for its size; it
// names no size, so that a page's many such values make one line.
func (b *budget) tooLargeMsg(f *field) string {
	return fmt.Sprintf("%s: a value larger than crawl.max_value_size (%s) dropped", f.name, config.ByteSize(b.maxValue))
}

// valueSize is about what v costs a record, for the bounds.
func valueSize(v any) int {
	if s, ok := v.(string); ok {
		return len(s)
	}
	return 8
}

// deeperThan reports whether the JSON text s nests more than limit levels,
// in one pass and without recursion; it does not check the rest of the
// grammar.
func deeperThan(s string, limit int) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if depth++; depth > limit {
				return true
			}
		case ']', '}':
			depth--
		}
	}
	return false
}
