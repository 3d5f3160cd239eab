package crawler

import (
	"context"
	"errors"
	"fmt"

	"github.com/gather-crawler/gather/storage"
)

// Rebuilt says what Rebuild did besides its re-extraction.
type Rebuilt struct {
	storage.TableRebuild
	// Stale counts the pages whose rows the re-extraction did not
	// refresh (no archived response, an unreadable one, a run that did
	// not finish); BackupKept is set when the backup stays because of
	// them.
	Stale      int64
	BackupKept bool
}

// Rebuild remakes item's table with only the config's columns, then runs
// the item over the archive (Reextract with opts, limited to item). The
// remake is one transaction that copies every row into the new table and
// keeps the old one as a backup, so a failure at any point loses nothing:
// before the commit the table is as it was, after it every row is in the
// new table (refreshed or as it was) and in the backup. The backup is
// dropped only once every page with rows in the table was re-extracted;
// otherwise it stays, and Rebuilt says why.
func (c *Crawler) Rebuild(ctx context.Context, item string, opts ReextractOptions) (Summary, Rebuilt, error) {
	if _, ok := c.cfg.Items[item]; !ok {
		return Summary{}, Rebuilt{}, fmt.Errorf("--rebuild %s: the config has no such item", item)
	}
	job := c.cfg.Crawl.Name
	// The job's lease keeps a crawl of it from writing into the table
	// while it is renamed and copied; Reextract takes it again.
	lease := c.store.NewLease(job, c.opts.Lease)
	if err := lease.Acquire(ctx); err != nil {
		return Summary{}, Rebuilt{}, err
	}
	tr, err := c.store.RebuildTable(ctx, job, item, c.opts.Now())
	if rerr := lease.Release(); err == nil && rerr != nil {
		err = rerr
	}
	reb := Rebuilt{TableRebuild: tr}
	if err != nil {
		return Summary{}, reb, err
	}
	c.log.Info("table rebuilt with today's columns; re-extracting its pages", "table", item, "backup", tr.Backup,
		"dropped", tr.Dropped, "rows", tr.Rows)
	opts.Items = []string{item}
	sum, err := c.Reextract(ctx, opts)
	reb.BackupKept = true
	if sum.Run == 0 {
		return sum, reb, err
	}
	stale, serr := c.store.NotRefreshed(context.Background(), item, sum.Run)
	if serr != nil {
		return sum, reb, errors.Join(err, serr)
	}
	reb.Stale = stale
	if err == nil && sum.Status == storage.RunFinished && stale == 0 {
		if derr := c.store.DropBackup(context.Background(), tr.Backup); derr != nil {
			return sum, reb, derr
		}
		reb.BackupKept = false
	}
	return sum, reb, err
}
