package archive

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/nlnwa/gowarc/v3"
)

// Record is one WARC record read back.
type Record struct {
	Type         string // "response", "request", "resource", "warcinfo", …
	ID           string // WARC-Record-ID
	URL          string // WARC-Target-URI
	Date         time.Time
	ConcurrentTo []string
	// PayloadDigest is WARC-Payload-Digest ("sha1:…"), verified on read.
	PayloadDigest string
	// Truncated is WARC-Truncated: the body is shorter than what was sent.
	Truncated string
	// ContentType is the record's own Content-Type (of its block).
	ContentType string

	// Proto, StatusCode, Status and Header are the HTTP response's, for
	// response records only. Header is as stored: see OrigHeaderPrefix.
	Proto      string
	StatusCode int
	Status     string
	Header     http.Header
	// Body is a response record's HTTP body, or any other record's block
	// (the rendered DOM of a resource record).
	Body []byte
}

// ContentBody is Body with the response's Content-Encoding (gzip, deflate)
// undone: gather stores a body decoded when the transport decoded it, but
// one fetched with its encoding kept is stored as sent.
func (r *Record) ContentBody() ([]byte, error) {
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity":
		return r.Body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(r.Body))
		if err != nil {
			return nil, fmt.Errorf("archive: %s: gzip body: %w", r.URL, err)
		}
		return io.ReadAll(zr)
	case "deflate":
		return io.ReadAll(flate.NewReader(bytes.NewReader(r.Body)))
	}
	return nil, fmt.Errorf("archive: %s: content encoding %q is not supported", r.URL, enc)
}

// ReadAt reads the one record at loc in the archive directory dir without
// scanning the file, and verifies its gzip checksum and WARC digests.
func ReadAt(dir string, loc Location) (*Record, error) {
	if !filepath.IsLocal(loc.File) {
		return nil, fmt.Errorf("archive: %q is not a file in the archive", loc.File)
	}
	f, err := os.Open(filepath.Join(dir, loc.File))
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	defer f.Close()
	return readAt(f, loc)
}

// Reader reads records at known locations in one archive directory,
// keeping the files it has opened open until Close. It is safe for
// concurrent use.
type Reader struct {
	dir   string
	mu    sync.Mutex
	files map[string]*os.File
}

// NewReader returns a Reader of the archive directory dir.
func NewReader(dir string) *Reader {
	return &Reader{dir: dir, files: map[string]*os.File{}}
}

// Read reads the record at loc, as ReadAt does.
func (r *Reader) Read(loc Location) (*Record, error) {
	f, err := r.open(loc.File)
	if err != nil {
		return nil, err
	}
	return readAt(f, loc)
}

func (r *Reader) open(name string) (*os.File, error) {
	// A location names a file under the directory (a worker's subdirectory
	// included), never one outside it.
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("archive: %q is not a file in the archive", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.files == nil {
		return nil, errors.New("archive: reader is closed")
	}
	if f, ok := r.files[name]; ok {
		return f, nil
	}
	f, err := os.Open(filepath.Join(r.dir, name))
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	r.files[name] = f
	return f, nil
}

// Close closes the files the Reader opened.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, f := range r.files {
		errs = append(errs, f.Close())
	}
	r.files = nil
	return errors.Join(errs...)
}

// unmarshalers and readers are reused: a gzip reader and a 64 KB buffer
// per read were a third of a read's allocations.
var (
	unmarshalers sync.Pool
	bufReaders   = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}
)

func readAt(f io.ReaderAt, loc Location) (*Record, error) {
	if loc.Offset < 0 || loc.Length <= 0 {
		return nil, fmt.Errorf("archive: %s: bad location offset %d length %d", loc.File, loc.Offset, loc.Length)
	}
	br := bufReaders.Get().(*bufio.Reader)
	br.Reset(io.NewSectionReader(f, loc.Offset, loc.Length))
	defer bufReaders.Put(br)
	u, _ := unmarshalers.Get().(gowarc.Unmarshaler)
	if u == nil {
		u = newUnmarshaler()
	}
	rec, skipped, validation, err := u.Unmarshal(br)
	if err == nil {
		// A failed Unmarshal may leave its gzip reader mid-stream; only a
		// clean one goes back to the pool.
		unmarshalers.Put(u)
	}
	if err == nil && skipped > 0 {
		err = fmt.Errorf("no record starts at the offset (one starts %d bytes later)", skipped)
	}
	if err == nil {
		err = checkValidation(validation)
	}
	if err != nil {
		if rec != nil {
			rec.Close()
		}
		return nil, fmt.Errorf("archive: %s at offset %d: %w", loc.File, loc.Offset, err)
	}
	defer rec.Close()
	out, err := toRecord(rec)
	if err != nil {
		return nil, fmt.Errorf("archive: %s at offset %d: %w", loc.File, loc.Offset, err)
	}
	return out, nil
}

// checkValidation turns gowarc's findings about a record into an error:
// a digest or length that does not match, a required field missing, a
// header line or end-of-record marker out of shape. gather reads back what
// it wrote, so any finding means damaged bytes — such as a torn member
// whose uncompressed text gowarc found and parsed as far as it went —
// except the one about skipped bytes, which the scan reports itself.
func checkValidation(validation []error) error {
	var bad []error
	for _, v := range validation {
		if strings.Contains(v.Error(), "bytes after expected offset") {
			continue
		}
		bad = append(bad, v)
	}
	return errors.Join(bad...)
}

// toRecord copies what a caller needs out of a parsed record.
func toRecord(rec gowarc.WarcRecord) (*Record, error) {
	h := rec.WarcHeader()
	out := &Record{
		Type:          rec.Type().String(),
		ID:            h.GetId(gowarc.WarcRecordID),
		URL:           h.Get(gowarc.WarcTargetURI),
		PayloadDigest: h.Get(gowarc.WarcPayloadDigest),
		Truncated:     h.Get(gowarc.WarcTruncated),
		ContentType:   h.Get(gowarc.ContentType),
	}
	out.Date, _ = h.GetTime(gowarc.WarcDate)
	for _, id := range h.GetAll(gowarc.WarcConcurrentTo) {
		out.ConcurrentTo = append(out.ConcurrentTo, strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">"))
	}
	var body io.Reader
	var err error
	size := rec.Block().Size()
	switch b := rec.Block().(type) {
	case gowarc.HttpResponseBlock:
		first, _, _ := bytes.Cut(b.ProtocolHeaderBytes(), []byte(" "))
		out.Proto = string(first)
		out.Status = b.HttpStatusLine()
		out.StatusCode = b.HttpStatusCode()
		if hh := b.HttpHeader(); hh != nil {
			out.Header = hh.Clone()
		}
		body, err = b.PayloadBytes()
	case gowarc.PayloadBlock:
		body, err = b.PayloadBytes()
	default:
		body, err = rec.Block().RawBytes()
	}
	if err != nil {
		return nil, err
	}
	// The block is cached (its digests were checked), so its size is
	// known: one allocation instead of io.ReadAll's doubling.
	if hb, ok := rec.Block().(gowarc.ProtocolHeaderBlock); ok {
		size -= int64(len(hb.ProtocolHeaderBytes()))
	}
	if size < 0 {
		size = 0
	}
	out.Body = make([]byte, size)
	if _, err := io.ReadFull(body, out.Body); err != nil {
		return nil, err
	}
	if n, _ := io.Copy(io.Discard, body); n > 0 {
		return nil, fmt.Errorf("block is %d bytes longer than its length", n)
	}
	if out.Header == nil {
		out.Header = http.Header{}
	}
	return out, nil
}
