package storage

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
)

// Poison pages: a page whose extraction kills the process (a stack
// overflow, memory running out, a watchdog's kill -9) stays pending, so
// every later run would fetch it and die again. gather keeps that from
// becoming a crash loop:
//
//   - While a run extracts a page, the page is written in a slot of a small
//     file beside the database (BeginExtract), and the slot is cleared once
//     the extraction returns. A plain write survives the death of the
//     process that made it, and costs two system calls a page; the writer's
//     transactions are batched, so a pending mark could still be in memory
//     when the process dies, and are too dear to commit for each page.
//   - The next run of the job (MarkAbandonedRuns) reads the file of the run
//     whose process died and records, in gather_crashes, the pages that
//     were being extracted then.
//   - A page recorded so for two runs of the job in a row is quarantined
//     (Quarantined): it is not extracted again, and is recorded failed,
//     QuarantineReason, each time a run fetches it, until its rows are
//     deleted from gather_crashes.

// QuarantineReason is the error recorded for a quarantined page.
const QuarantineReason = "crashed the crawler twice: it was being extracted when two runs in a row died; " +
	"it is not extracted again until its rows in gather_crashes are deleted"

const poisonSchema = `
CREATE TABLE IF NOT EXISTS gather_crashes (
  job TEXT NOT NULL,
  url TEXT NOT NULL,
  run INTEGER NOT NULL,
  PRIMARY KEY (job, url, run)
) WITHOUT ROWID;`

// flightSlot is the size of a slot of the extraction file: the run (8
// bytes, 0 for a free slot), the URL's length and the CRC-32 of both (4
// bytes each), the URL. A longer URL is not recorded.
const (
	flightSlot   = 8 << 10
	flightHeader = 16
)

// poison is a Store's bookkeeping of poison pages.
type poison struct {
	mu      sync.Mutex
	flights map[string]*flight // by job, while a run of it extracts
	// quarantined holds, by job, the pages not to extract, as read by the
	// job's last MarkAbandonedRuns.
	quarantined map[string]map[string]bool
}

// flight is the extraction file of one run.
type flight struct {
	f    *os.File // nil when it could not be made: pages are then not recorded
	run  int64
	path string
	mu   sync.Mutex
	free []int // slots cleared, for reuse
	n    int   // slots ever used
}

// flightPath is where the runs of job record what they extract: beside the
// database, named after a hash of the job so that any job name is a file
// name.
func (s *Store) flightPath(job string) string {
	h := sha256.Sum256([]byte(job))
	return s.path + "-extracting-" + hex.EncodeToString(h[:8])
}

// BeginExtract records that run of job is extracting url, and returns the
// function that clears the record once the extraction returns. Recording is
// best effort: a file that cannot be written records nothing, and the crawl
// goes on.
func (s *Store) BeginExtract(job string, run int64, url string) (end func()) {
	if s == nil {
		return func() {} // a worker of a shared frontier: no database here
	}
	fl := s.flightFor(job, run)
	if fl.f == nil || flightHeader+len(url) > flightSlot {
		return func() {}
	}
	fl.mu.Lock()
	slot := fl.n
	if k := len(fl.free); k > 0 {
		slot, fl.free = fl.free[k-1], fl.free[:k-1]
	} else {
		fl.n++
	}
	fl.mu.Unlock()
	buf := make([]byte, flightHeader+len(url))
	binary.LittleEndian.PutUint64(buf, uint64(run))
	binary.LittleEndian.PutUint32(buf[8:], uint32(len(url)))
	copy(buf[flightHeader:], url)
	binary.LittleEndian.PutUint32(buf[12:], slotSum(buf))
	off := int64(slot) * flightSlot
	if _, err := fl.f.WriteAt(buf, off); err != nil {
		return func() { fl.release(slot) }
	}
	return func() {
		fl.f.WriteAt(make([]byte, 8), off)
		fl.release(slot)
	}
}

func (fl *flight) release(slot int) {
	fl.mu.Lock()
	fl.free = append(fl.free, slot)
	fl.mu.Unlock()
}

// flightFor returns run's extraction file, made on the run's first page.
func (s *Store) flightFor(job string, run int64) *flight {
	p := &s.poison
	p.mu.Lock()
	defer p.mu.Unlock()
	if fl := p.flights[job]; fl != nil && fl.run == run {
		return fl
	}
	fl := &flight{run: run, path: s.flightPath(job)}
	// A file left by a run of the job is read by MarkAbandonedRuns before
	// the next run starts; whatever remains now is stale.
	fl.f, _ = os.OpenFile(fl.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if p.flights == nil {
		p.flights = map[string]*flight{}
	}
	if old := p.flights[job]; old != nil && old.f != nil {
		old.f.Close()
	}
	p.flights[job] = fl
	return fl
}

// endFlight closes and removes the extraction file of run, which has
// ended: nothing of it is being extracted any more.
func (s *Store) endFlight(run int64) {
	p := &s.poison
	p.mu.Lock()
	defer p.mu.Unlock()
	for job, fl := range p.flights {
		if fl.run != run {
			continue
		}
		if fl.f != nil {
			fl.f.Close()
			os.Remove(fl.path)
		}
		delete(p.flights, job)
	}
}

// closeFlights closes the extraction files still open, keeping them: a
// run that did not finish left them for the next one to read.
func (s *Store) closeFlights() {
	p := &s.poison
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, fl := range p.flights {
		if fl.f != nil {
			fl.f.Close()
		}
	}
	p.flights = nil
}

// Quarantined reports whether url crashed runs of job twice in a row (as
// the job's last MarkAbandonedRuns found): it must not be extracted.
func (s *Store) Quarantined(job, url string) bool {
	if s == nil {
		return false // a worker of a shared frontier: the sink's database decides
	}
	p := &s.poison
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.quarantined[job][url]
}

// recordCrashes reads what the dead runs of job were extracting when their
// process died, records it in gather_crashes, and loads the job's
// quarantined pages. It is called by the lease holder before a run starts,
// once the runs of dead processes are marked interrupted.
func (s *Store) recordCrashes(ctx context.Context, job string) error {
	path := s.flightPath(job)
	// Best effort, as the recording is: a file that cannot be read records
	// no crash.
	entries, _ := readFlight(path)
	if len(entries) > 0 {
		// Only runs whose process died count: a run that ended cleared its
		// slots, and removed the file.
		dead := map[int64]bool{}
		rows, err := s.write.QueryContext(ctx, `SELECT id FROM gather_runs WHERE job = ? AND status = ? AND finished_at IS NULL`, job, RunInterrupted)
		if err != nil {
			return fmt.Errorf("find dead runs: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			dead[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range entries {
			if !dead[e.run] {
				continue
			}
			if _, err := s.write.ExecContext(ctx, `INSERT OR IGNORE INTO gather_crashes (job, url, run) VALUES (?, ?, ?)`, job, e.url, e.run); err != nil {
				return fmt.Errorf("record a crash: %w", err)
			}
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	// Two crashes in a row: no run of the job between them.
	rows, err := s.write.QueryContext(ctx, `SELECT DISTINCT b.url FROM gather_crashes a
		JOIN gather_crashes b ON b.job = a.job AND b.url = a.url AND b.run > a.run
		WHERE a.job = ? AND NOT EXISTS (SELECT 1 FROM gather_runs r WHERE r.job = a.job AND r.id > a.run AND r.id < b.run)`, job)
	if err != nil {
		return fmt.Errorf("find quarantined pages: %w", err)
	}
	defer rows.Close()
	q := map[string]bool{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return err
		}
		q[u] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	p := &s.poison
	p.mu.Lock()
	if p.quarantined == nil {
		p.quarantined = map[string]map[string]bool{}
	}
	p.quarantined[job] = q
	p.mu.Unlock()
	return nil
}

// slotSum is the CRC-32 of a slot's run, length and URL.
func slotSum(slot []byte) uint32 {
	h := crc32.NewIEEE()
	h.Write(slot[:12])
	h.Write(slot[flightHeader:])
	return h.Sum32()
}

type flightEntry struct {
	run int64
	url string
}

// readFlight returns the pages an extraction file says were being
// extracted.
func readFlight(path string) ([]flightEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []flightEntry
	buf := make([]byte, flightSlot)
	for {
		n, err := io.ReadFull(f, buf)
		if n >= flightHeader {
			run := int64(binary.LittleEndian.Uint64(buf))
			size := int(binary.LittleEndian.Uint32(buf[8:]))
			// A slot cut short or garbled is skipped, not trusted.
			if run > 0 && size > 0 && flightHeader+size <= n &&
				binary.LittleEndian.Uint32(buf[12:]) == slotSum(buf[:flightHeader+size]) {
				out = append(out, flightEntry{run: run, url: string(buf[flightHeader : flightHeader+size])})
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}
