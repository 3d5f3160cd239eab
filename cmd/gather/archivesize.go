package main

import (
	"fmt"

	"github.com/gather-crawler/gather/storage"
)

// archivedNote is what a worker's or a sink's one-line summary says of
// the archive ("" when nothing was archived): a local run's summary says
// it itself (crawler.Summary.String).
func archivedNote(c storage.RunCounts) string {
	if c.Archived == 0 {
		return ""
	}
	return fmt.Sprintf(", %d responses archived (%.1f MB)", c.Archived, float64(c.ArchiveBytes)/(1<<20))
}
