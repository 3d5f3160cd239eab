package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// A batch is the writer's open transaction. Pages are written into it as
// they arrive, and it commits once it holds BatchOps operations or
// BatchRows rows, or BatchDelay after its first, or at a Flush, or when
// no work has come for idleCommit. Writing as
// pages come, rather than collecting a batch and then writing it, keeps the
// writer busy alongside the crawl instead of in bursts, and leaves little
// to write after the last page.
type batch struct {
	conn *sql.Conn
	tx   *sql.Tx
	err  error // the first failure; the batch then rolls back

	ops, rows int
	urls      []string // pages written (not pending marks), for OnCommit
	flushed   []chan struct{}

	ok, failed, skipped, items, changed int64
	discovered                          int64
	// archived and archiveBytes count the archived responses indexed.
	archived, archiveBytes int64
}

func (w *Writer) loop() {
	defer close(w.done)
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	for {
		o, ok := <-w.ch
		if !ok {
			return
		}
		b := w.begin()
		timer := time.NewTimer(w.opts.BatchDelay)
		closed := false
		full := w.add(b, o)
		for !full {
			var ok bool
			select {
			case o, ok = <-w.ch:
			default:
				// Caught up: wait a moment for more, else commit, so that
				// a crawl going slower than the writer does not keep the
				// write lock from other processes while nothing happens.
				idle.Reset(idleCommit)
				select {
				case o, ok = <-w.ch:
				case <-idle.C:
					full = true
					continue
				case <-timer.C:
					full = true
					continue
				}
				if !idle.Stop() {
					<-idle.C
				}
			}
			if !ok {
				closed, full = true, true
				break
			}
			full = w.add(b, o)
		}
		timer.Stop()
		w.end(b)
		if closed {
			return
		}
	}
}

// idleCommit is how long an open transaction waits for more work once the
// writer has caught up, before it commits.
const idleCommit = 5 * time.Millisecond

// begin opens a transaction, unless the writer has failed before: the
// batch then only passes Flush barriers on.
func (w *Writer) begin() *batch {
	b := &batch{}
	if b.err = w.Err(); b.err != nil {
		return b
	}
	ctx := context.Background()
	// The transaction runs on a connection of its own, so that item rows
	// can go in through the driver (rowInserter) inside it.
	conn, err := w.s.write.Conn(ctx)
	if err != nil {
		b.err = fmt.Errorf("begin transaction: %w", err)
		return b
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		b.err = fmt.Errorf("begin transaction: %w", err)
		return b
	}
	b.conn, b.tx = conn, tx
	return b
}

// add writes one operation into the batch and reports whether the batch
// must commit now.
func (w *Writer) add(b *batch, o op) bool {
	b.ops++
	b.rows += o.rows()
	switch {
	case o.flushed != nil:
		b.flushed = append(b.flushed, o.flushed)
		return true
	case b.err != nil:
	case o.pending:
		stmt := w.stmts.pending
		if o.hub {
			stmt = w.stmts.pendingHub
		}
		res, err := b.tx.Stmt(stmt).Exec(o.url, w.opts.Run, w.opts.Job, o.depth)
		if err != nil {
			b.err = fmt.Errorf("mark %s pending: %w", o.url, err)
			break
		}
		// A row written is a link new to the frontier (or one an earlier
		// run left pending): work this run has to do.
		if n, _ := res.RowsAffected(); n > 0 && o.depth > 0 {
			b.discovered++
		}
	default:
		p := o.page
		changed, err := w.writePage(b.tx, b.conn, p)
		if err != nil {
			b.err = fmt.Errorf("store %s: %w", p.URL, err)
			break
		}
		b.urls = append(b.urls, p.URL)
		switch p.Status {
		case PageOK:
			b.ok++
			for _, it := range p.Items {
				b.items += int64(len(it.Rows))
			}
			if changed {
				b.changed++
			}
		case PageFailed:
			b.failed++
		case PageSkipped:
			b.skipped++
		}
		if p.Archive != nil {
			b.archived++
			b.archiveBytes += p.Archive.Length + p.Archive.RenderedLength
		}
	}
	return b.ops >= w.opts.BatchOps || b.rows >= w.opts.BatchRows
}

// end commits the batch (or rolls it back after a failure, which then
// stops the writer), counts what it committed and releases Flush callers.
func (w *Writer) end(b *batch) {
	if b.tx != nil {
		if b.err == nil && w.opts.BeforeCommit != nil {
			if err := w.opts.BeforeCommit(); err != nil {
				b.err = fmt.Errorf("before commit: %w", err)
			}
		}
		if b.err != nil {
			b.tx.Rollback()
		} else if err := b.tx.Commit(); err != nil {
			b.err = fmt.Errorf("commit: %w", err)
		} else {
			w.ok.Add(b.ok)
			w.failed.Add(b.failed)
			w.skipped.Add(b.skipped)
			w.items.Add(b.items)
			w.changed.Add(b.changed)
			w.discovered.Add(b.discovered)
			w.archived.Add(b.archived)
			w.archiveBytes.Add(b.archiveBytes)
			if w.opts.OnCommit != nil && len(b.urls) > 0 {
				w.opts.OnCommit(b.urls)
			}
		}
		b.conn.Close()
		if b.err == nil {
			// Before Flush callers go on, so that they find the WAL
			// within its bounds.
			w.boundWAL()
		}
	}
	if b.err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = b.err
		}
		w.mu.Unlock()
	}
	for _, ch := range b.flushed {
		close(ch)
	}
}

func (o op) rows() int {
	if o.page == nil {
		return 1
	}
	n := 1
	for _, it := range o.page.Items {
		n += len(it.Rows)
	}
	return n
}
