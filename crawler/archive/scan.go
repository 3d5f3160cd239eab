package archive

import (
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nlnwa/gowarc/v3"
)

// CorruptError reports bytes of a WARC file that hold no readable record: a
// truncated or damaged gzip member, a record whose digest does not match,
// or garbage between records. Scan reports it and goes on after it.
type CorruptError struct {
	File   string // the file's path as Scan was given it
	Offset int64  // where the unreadable bytes start
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("archive: %s: unreadable at offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Entry is a record Scan found, with where it lies. Location.File is the
// file's name relative to the directory scanned (its base name when a file
// was scanned).
type Entry struct {
	Location Location
	Record   *Record
}

// Files lists the WARC files (*.warc, *.warc.gz) under path — path itself
// when it is a file — in name order, which for gather's names is the order
// they were written in.
func Files(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".warc.gz") || strings.HasSuffix(p, ".warc")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

// Scan yields every response record of the WARC file or directory at path
// with its location. Unreadable parts come as a *CorruptError (with the
// zero Entry) and the scan goes on after them; a file that cannot be
// opened comes as its error and the scan goes on with the next file.
// Scan never panics on bad bytes.
func Scan(path string) iter.Seq2[Entry, error] {
	return scanTypes(path, gowarc.Response)
}

// ScanAll is Scan for records of every type.
func ScanAll(path string) iter.Seq2[Entry, error] {
	return scanTypes(path, 0)
}

func scanTypes(path string, only gowarc.RecordType) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		files, err := Files(path)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		root := path
		if len(files) == 1 && files[0] == path {
			root = filepath.Dir(path)
		}
		for _, f := range files {
			name, err := filepath.Rel(root, f)
			if err != nil {
				name = filepath.Base(f)
			}
			if !scanFile(f, name, only, yield) {
				return
			}
		}
	}
}

// scanFile reads the records of one file in order. After an unreadable
// record it starts again one byte further on, where gowarc looks for the
// next record's start (a gzip or "WARC/" magic), so one torn member costs
// that member only.
func scanFile(path, name string, only gowarc.RecordType, yield func(Entry, error) bool) bool {
	var offset int64
	for {
		next, ok, done := scanFrom(path, name, offset, only, yield)
		if !ok {
			return false
		}
		if done {
			return true
		}
		offset = next
	}
}

// scanFrom reads records from offset until the end of the file (done) or
// an unreadable record, after which it returns the offset to resume at.
// ok is false when the consumer stopped.
func scanFrom(path, name string, offset int64, only gowarc.RecordType, yield func(Entry, error) bool) (next int64, ok, done bool) {
	r, err := newWarcFileReader(path, offset)
	if err != nil {
		return 0, yield(Entry{}, fmt.Errorf("archive: %w", err)), true
	}
	defer r.Close()
	var fileSize int64
	if info, err := os.Stat(path); err == nil {
		fileSize = info.Size()
	}
	expect := offset
	for {
		rec, err, panicked := nextRecord(r)
		if panicked != nil {
			return expect + 1, yield(Entry{}, &CorruptError{File: path, Offset: expect, Err: panicked}), false
		}
		if err == io.EOF {
			return 0, true, true
		}
		if err != nil {
			rec.Close()
			if errors.Is(err, gowarc.ErrNoRecord) {
				// Nothing but garbage up to the end of the file.
				return 0, yield(Entry{}, &CorruptError{File: path, Offset: expect, Err: err}), true
			}
			at := rec.Offset
			if at < expect {
				at = expect
			}
			return at + 1, yield(Entry{}, &CorruptError{File: path, Offset: at, Err: err}), false
		}
		if rec.Offset > expect {
			// gowarc skipped bytes to find this record.
			cerr := &CorruptError{File: path, Offset: expect, Err: fmt.Errorf("%d bytes hold no record", rec.Offset-expect)}
			if !yield(Entry{}, cerr) {
				rec.Close()
				return 0, false, true
			}
		}
		expect = rec.Offset + rec.Size
		bad := checkValidation(rec.Validation)
		if bad == nil && expect == fileSize {
			bad = lastMemberIntact(path, rec.Offset, rec.Size)
		}
		if bad != nil {
			rec.Close()
			if !yield(Entry{}, &CorruptError{File: path, Offset: rec.Offset, Err: bad}) {
				return 0, false, true
			}
			continue
		}
		if only != 0 && rec.WarcRecord.Type() != only {
			rec.Close()
			continue
		}
		out, err := toRecord(rec.WarcRecord)
		rec.Close()
		if err != nil {
			if !yield(Entry{}, &CorruptError{File: path, Offset: rec.Offset, Err: err}) {
				return 0, false, true
			}
			continue
		}
		if !yield(Entry{Location: Location{File: name, Offset: rec.Offset, Length: rec.Size}, Record: out}, nil) {
			return 0, false, true
		}
	}
}

// lastMemberIntact checks the gzip trailer of a file's last member: a
// writer cut off just after the compressed data leaves a member whose
// records parse whole but whose checksum is gone, and gowarc's gzip
// reader takes the missing trailer for a clean end. The standard
// library's reader does not.
func lastMemberIntact(path string, offset, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var magic [2]byte
	if _, err := f.ReadAt(magic[:], offset); err != nil || magic != [2]byte{0x1f, 0x8b} {
		return nil // not gzip: nothing more to check
	}
	zr, err := stdgzip.NewReader(io.NewSectionReader(f, offset, size))
	if err != nil {
		return err
	}
	zr.Multistream(false)
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("torn gzip member: %w", err)
	}
	return nil
}

// nextRecord is r.Next with a panic in the parser turned into a finding:
// bytes from a damaged file must never take the process down.
func nextRecord(r *gowarc.WarcFileReader) (rec gowarc.Record, err error, panicked error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = fmt.Errorf("parser panicked: %v", p)
		}
	}()
	rec, err = r.Next()
	return rec, err, nil
}
