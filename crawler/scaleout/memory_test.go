package scaleout_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/internal/redistest"
)

// What Redis spends on the crawl's URLs, measured by the server itself
// (MEMORY USAGE, INFO memory): a seen URL costs at most 100 bytes however
// long it is (the set holds a 10-byte hash), and a queued URL its length
// plus a small overhead, until the sink deletes it.
func TestMemory_PerSeenAndQueuedURL(t *testing.T) {
	rs := redistest.Start(t)
	ctx := context.Background()
	fr := open(t, rs.URL(), "seed", 5*time.Second)
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", rs.Port)})
	defer rdb.Close()
	used := func() int64 {
		info, err := rdb.InfoMap(ctx, "memory").Result()
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		fmt.Sscan(info["Memory"]["used_memory"], &n)
		return n
	}
	before := used()
	const n = 50_000
	links := make([]crawler.Link, n)
	for i := range links {
		// A typical credits URL: 60 bytes.
		links[i] = crawler.Link{URL: fmt.Sprintf("https://www.example-movies.test/title/tt%08d/fullcredits", i)}
	}
	if err := fr.Add(ctx, links); err != nil {
		t.Fatal(err)
	}
	total := used() - before
	seen, err := rdb.MemoryUsage(ctx, "gather:shared:seen", 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	queue, err := rdb.MemoryUsage(ctx, "gather:shared:queue", 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	perSeen, perQueued := float64(seen)/n, float64(queue)/n
	t.Logf("per URL: %.1f bytes seen, %.1f bytes queued (%d-byte URLs); used_memory grew %.1f bytes per URL",
		perSeen, perQueued, len(links[0].URL), float64(total)/n)
	if perSeen > 100 {
		t.Errorf("a seen URL costs %.1f bytes, want at most 100", perSeen)
	}
	if perQueued > float64(len(links[0].URL))+40 {
		t.Errorf("a queued URL costs %.1f bytes, more than its %d bytes and 40 of overhead", perQueued, len(links[0].URL))
	}
}
