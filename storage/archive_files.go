package storage

import (
	"context"
	"fmt"
)

// ArchiveFile is a WARC file the index names, with how many of the job's
// pages have their latest response in it.
type ArchiveFile struct {
	File  string
	Pages int64
}

// ArchiveFiles lists the files job's index names, in name order.
func (s *Store) ArchiveFiles(ctx context.Context, job string) ([]ArchiveFile, error) {
	rows, err := s.write.QueryContext(ctx, `SELECT file, count(*) FROM gather_archive WHERE job = ? GROUP BY file ORDER BY file`, job)
	if err != nil {
		return nil, fmt.Errorf("list the archive's files: %w", err)
	}
	defer rows.Close()
	var out []ArchiveFile
	for rows.Next() {
		var f ArchiveFile
		if err := rows.Scan(&f.File, &f.Pages); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
