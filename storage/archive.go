package storage

import (
	"context"
	"database/sql"
	"fmt"
)

// archiveSchema is the index of the archive (crawl.archive): where each
// page's latest response lies in the WARC files, so that one record is
// read without scanning. A page fetched again points at its newer
// response; the older stays in its file.
const archiveSchema = `
CREATE TABLE IF NOT EXISTS gather_archive (
  job TEXT NOT NULL,
  url TEXT NOT NULL,
  file TEXT NOT NULL,
  offset INTEGER NOT NULL,
  length INTEGER NOT NULL,
  run INTEGER,
  fetched_at TEXT NOT NULL,
  rendered_offset INTEGER NOT NULL DEFAULT 0,
  rendered_length INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (job, url)
);
`

// ArchiveRef is where a page's response record lies: File relative to
// the archive's directory (a worker's files in a subdirectory of their
// own), the gzip member's Offset and Length.
type ArchiveRef struct {
	File           string
	Offset, Length int64
	// RenderedOffset and RenderedLength, when set, are those of the
	// resource record of the DOM a browser rendered from the response (in
	// the same file): what the page's rows were extracted from.
	RenderedOffset int64 `json:",omitempty"`
	RenderedLength int64 `json:",omitempty"`
}

// ArchivedPage is a page of the job with an archived response.
type ArchivedPage struct {
	URL   string
	Depth int
	Ref   ArchiveRef
	// ItemsHash is the version of the items its rows were stored with.
	ItemsHash string
}

// ArchivedPages returns up to limit pages of job with an archived
// response, in URL order after the URL after ("" for the first), for a
// re-extraction to page through.
//
// It reads through the read pool: on the write connection it waited for
// the writer's open transaction to commit, and the re-extraction's
// workers, fed from it, stood idle meanwhile.
func (s *Store) ArchivedPages(ctx context.Context, job, after string, limit int) ([]ArchivedPage, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT a.url, coalesce(p.depth, 0), a.file, a.offset, a.length, coalesce(p.items_hash, ''),
		a.rendered_offset, a.rendered_length
		FROM gather_archive a LEFT JOIN gather_pages p ON p.job = a.job AND p.url = a.url
		WHERE a.job = ? AND a.url > ? ORDER BY a.url LIMIT ?`, job, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list archived pages: %w", err)
	}
	defer rows.Close()
	var out []ArchivedPage
	for rows.Next() {
		var p ArchivedPage
		if err := rows.Scan(&p.URL, &p.Depth, &p.Ref.File, &p.Ref.Offset, &p.Ref.Length, &p.ItemsHash, &p.Ref.RenderedOffset, &p.Ref.RenderedLength); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CountArchived counts job's pages with an archived response.
func (s *Store) CountArchived(ctx context.Context, job string) (int64, error) {
	var n int64
	err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM gather_archive WHERE job = ?`, job).Scan(&n)
	return n, err
}

// indexArchive records where p's response lies, in p's transaction.
func (w *Writer) indexArchive(tx *sql.Tx, p *Page, fetched string) error {
	if p.Archive == nil {
		return nil
	}
	if _, err := tx.Stmt(w.stmts.archive).Exec(w.opts.Job, p.URL, p.Archive.File, p.Archive.Offset, p.Archive.Length, w.runOf(p), fetched,
		p.Archive.RenderedOffset, p.Archive.RenderedLength); err != nil {
		return fmt.Errorf("index the page's archived response: %w", err)
	}
	return nil
}
