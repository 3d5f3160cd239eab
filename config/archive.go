package config

import (
	"path/filepath"
	"strings"
)

// Archive keeps every response a crawl fetched as WARC files (ISO 28500),
// indexed per page in the database, so that `gather reextract` and a
// change of items read pages from disk instead of fetching them again.
type Archive struct {
	// Enabled turns the archive on (the default): a selector fix then
	// costs no request, and what the server sent can be read afterwards.
	Enabled bool `mapstructure:"enabled"`
	// Dir holds the WARC files; relative to the config file's directory.
	// Default: beside the database, its name with .warc for .db
	// (gather.db → gather.warc/).
	Dir string `mapstructure:"dir"`
	// MaxFileSize starts a new file once one passes it.
	MaxFileSize ByteSize `mapstructure:"max_file_size"`
}

// archiveDefaults are archive's keys under the file's values.
var archiveDefaults = map[string]any{
	"archive.enabled":       true,
	"archive.dir":           "",
	"archive.max_file_size": "1GB",
}

// defaultArchiveDir is the archive's directory beside database.
func defaultArchiveDir(database string) string {
	base := strings.TrimSuffix(database, filepath.Ext(database))
	return base + ".warc"
}

func (c *Config) normalizeArchive() {
	if c.Archive.Dir != "" {
		c.Archive.Dir = c.resolve(c.Archive.Dir)
	}
}

// ArchiveDir is the archive's directory: archive.dir, else beside the
// database (worked out when asked, so that a database chosen after loading,
// with --db, takes its archive along).
func (c *Config) ArchiveDir() string {
	if c.Archive.Dir != "" {
		return c.Archive.Dir
	}
	return defaultArchiveDir(c.Database)
}

func (c *Config) validateArchive(p *problems) {
	if !c.Archive.Enabled {
		return
	}
	if c.Archive.MaxFileSize < 1<<20 {
		p.add("archive.max_file_size", "must be at least 1MB (e.g. 1GB), got %d bytes", int64(c.Archive.MaxFileSize))
	}
}
