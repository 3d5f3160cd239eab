package crawler

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// unreachableArchive finds the files the job's index names that are not
// under dir: in a scaled-out crawl, a worker's files on another machine
// (or files moved away). It returns them, to be skipped, and a note for
// the run's report naming them and how many pages they leave as they
// were ("" when every file is there). If the index cannot be listed, the
// pages are tried one by one, and their failures reported as such.
func (c *Crawler) unreachableArchive(ctx context.Context, dir string) (map[string]bool, string) {
	files, err := c.store.ArchiveFiles(ctx, c.cfg.Crawl.Name)
	if err != nil {
		c.log.Warn("the archive's files could not be listed", "error", err)
		return nil, ""
	}
	missing := map[string]bool{}
	var names []string
	var pages int64
	for _, f := range files {
		_, err := os.Stat(filepath.Join(dir, f.File))
		if err == nil || !errors.Is(err, fs.ErrNotExist) && filepath.IsLocal(f.File) {
			continue // there (an unreadable file is reported page by page)
		}
		missing[f.File] = true
		pages += f.Pages
		c.log.Warn("a file of the archive's index is not in the archive's directory", "file", f.File, "dir", dir, "pages", f.Pages)
		if len(names) < 5 {
			names = append(names, fmt.Sprintf("%s (%d pages)", f.File, f.Pages))
		}
	}
	if len(missing) == 0 {
		return nil, ""
	}
	if len(missing) > len(names) {
		names = append(names, fmt.Sprintf("and %d more", len(missing)-len(names)))
	}
	return missing, fmt.Sprintf("archive: %d of the %d files the index names cannot be reached in %s: %s; their %d pages were left as they were (a worker's files on another machine: copy them there, under the same relative path, and reextract again)",
		len(missing), len(files), dir, strings.Join(names, ", "), pages)
}
