// Package dbpath tells a path that can be a crawl's SQLite file from one
// that cannot, for config's validation and storage's open alike.
package dbpath

import (
	"errors"
	"fmt"
	"strings"
)

// Check refuses what cannot be a crawl's database: an empty path, or an
// in-memory or URI database, which would not outlive the process.
func Check(path string) error {
	switch {
	case strings.TrimSpace(path) == "":
		return errors.New("must name a SQLite file (the path is empty)")
	case path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "mode=memory"):
		return fmt.Errorf("%q is not a file: gather keeps its results in a file that outlives the process", path)
	}
	return nil
}
