// Package archive keeps what gather fetched as WARC/1.1 files (ISO 28500),
// the format wget, Heritrix, Browsertrix and the Internet Archive write,
// and reads it back: one record at a known (file, offset, length) without
// scanning, or every response of a file or directory with corrupt parts
// reported and skipped.
//
// The format itself (record headers, digests, the HTTP blocks, parsing) is
// github.com/nlnwa/gowarc/v3's; this package decides what an exchange's
// records hold, compresses each record as its own gzip member, owns the
// files (naming, rotation, fsync, a full disk) and reports where each
// record landed so that it can be indexed. docs/archive.md says why
// gowarc and what is stored.
//
// The package knows nothing of colly, the config or the database: a fetch
// hands it an [Exchange]; a re-extraction reads [Record]s.
package archive
