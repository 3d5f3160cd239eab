package frontier

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// Late outcomes. A worker stalled past its lease (frozen, its machine
// suspended, Redis frozen under it) finds, when it hands a page over, that
// the page's queue entry is gone: another worker's fetch of it was stored,
// or the run is over and its sink gone. Its outcome is a fetch of a page
// the run has, maybe newer than the one stored. It goes to a stream of its
// own, late, outside the run's accounting: it never holds a run open
// (Drained does not look at it), never adds links to the frontier (the
// run that had them may be over), and is stored by the sink that runs, or
// by the crawl's next sink when none does (gather schedule's next run, or
// the next gather sink), before anything else, with
// storage.Writer.PutLate: as the page's record when it is newer, in the
// run that recorded the page, never counted as a page of a run.

// Late hands an outcome whose lease is gone to the sink, apart from the
// run's outcomes.
func (r *Redis) Late(ctx context.Context, page storage.Page, links []crawler.Link) error {
	payload, err := encodeResult(page, links)
	if err != nil {
		return err
	}
	if err := r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: r.keys.late, Values: []any{"p", string(payload)}}).Err(); err != nil {
		return fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	r.late.Add(1)
	r.log.Info("an outcome came after its lease was gone (its page was stored from another lease, or the run ended); handed to the sink as late, stored if newer than the page's record", "url", page.URL)
	return nil
}

var _ crawler.LateKeeper = (*Redis)(nil)

// storeLate hands the late outcomes waiting to c.StoreLate, a batch at a
// time, and deletes them from the stream once committed (a sink killed
// before that reads them again: the second time they are no newer, and
// are left out). Only StoreLate's error (the database failed) is
// returned: Redis failing, the next look tries again.
func (r *Redis) storeLate(ctx context.Context, c Consumer) error {
	for {
		msgs, err := r.rdb.XRangeN(ctx, r.keys.late, "-", "+", int64(c.Batch)).Result()
		if err != nil || len(msgs) == 0 {
			return nil
		}
		ids := make([]string, len(msgs))
		outs := make([]Outcome, 0, len(msgs))
		for i, m := range msgs {
			ids[i] = m.ID
			payload, _ := m.Values["p"].(string)
			p, links, err := decodeResult([]byte(payload))
			if err != nil {
				c.Logger.Error("a late outcome could not be read (written by another version of gather?); left out", "entry", m.ID, "error", err)
				continue
			}
			outs = append(outs, Outcome{Page: p, Links: links})
		}
		if err := c.StoreLate(ctx, outs); err != nil {
			return err
		}
		if err := r.rdb.XDel(ctx, r.keys.late, ids...).Err(); err != nil {
			return nil
		}
		if len(msgs) < c.Batch {
			return nil
		}
	}
}
