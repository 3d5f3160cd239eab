package frontier

import (
	"context"
	"testing"
	"time"

	"github.com/gather-crawler/gather/internal/redistest"
)

// A command that timed out while Redis was frozen still runs when Redis
// thaws. The host slot's scripts are safe to run twice, and late: a
// second try of a take with the same token finds the slot its first try
// took, not a full host; a renewal that runs after the slot's release
// holds nothing. (Before, a host with its slots taken by its own timed
// out tries stayed full for a lease: 30 s of a crawl stalled after a 40 s
// freeze.)
func TestHostSlot_ScriptsRunTwiceOrLate(t *testing.T) {
	if testing.Short() {
		t.Skip("a real redis-server")
	}
	rs := redistest.Start(t)
	r, err := Open(rs.URL(), Options{Job: "slots", LeaseTTL: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	key := r.keys.hostPrefix + "h"
	keys := []string{key, r.keys.pausePrefix + "h", r.keys.stopped}
	take := func(token string) []int64 {
		t.Helper()
		res, err := slotScript.Run(ctx, r.rdb, keys, 1, token, 30_000, "h").Int64Slice()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := take("a#1"); res[0] != 0 {
		t.Fatalf("first take: %v", res)
	}
	if res := take("a#1"); res[0] != 0 {
		t.Errorf("the same token's second try: %v, want the slot it holds", res)
	}
	if res := take("b#1"); res[0] != 2 {
		t.Errorf("another token, limit 1: %v, want the host full", res)
	}
	if err := releaseScript.Run(ctx, r.rdb, []string{key}, "a#1", 50).Err(); err != nil {
		t.Fatal(err)
	}
	// A renewal sent before the release, run after it.
	if err := renewSlotsScript.Run(ctx, r.rdb, []string{key}, 30_000, "a#1").Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the release's delay
	if res := take("b#1"); res[0] != 0 {
		t.Errorf("after the release and its delay, a late renewal notwithstanding: %v, want the slot", res)
	}
}
