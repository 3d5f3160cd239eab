package archive

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/nlnwa/gowarc/v3"
)

// DefaultMaxFileSize is the size a WARC file is rotated at when Options
// leaves it zero: the WARC standard's annex recommends 1 GB.
const DefaultMaxFileSize = 1 << 30

// ErrClosed is returned by a Writer's methods after Close.
var ErrClosed = errors.New("archive: writer is closed")

// Options configures a Writer.
type Options struct {
	// Dir is the directory the WARC files are written to; it is created.
	Dir string
	// MaxFileSize is the size (compressed bytes on disk) past which the
	// next exchange goes to a new file; 0 means DefaultMaxFileSize. One
	// exchange's records always share a file, so a file passes the size
	// by at most one exchange.
	MaxFileSize int64
	// Prefix starts each file name; "" means "gather".
	Prefix string
	// Software names the program and its version in each file's warcinfo
	// record, e.g. "gather/v1.4.0 (+https://…)".
	Software string
	// Job names the crawl (the config's job) in each warcinfo record, as
	// isPartOf.
	Job string
	// Hostname goes into file names and warcinfo; "" means os.Hostname.
	Hostname string
	// SyncEachWrite fsyncs the file after every exchange. Without it the
	// file is fsynced when it is rotated or closed and whenever Sync is
	// called: call Sync before committing rows that point into the archive
	// (once per transaction, not per page) so no committed row points at
	// bytes a power cut could take back.
	SyncEachWrite bool
	// GzipLevel is the compression level of each record's gzip member;
	// 0 means gzip.BestSpeed (1): on the demo's pages it takes 20–30% less
	// CPU than the default level (5) for 7% more bytes (docs/archive.md).
	GzipLevel int
	// Uncompressed writes plain .warc files, records uncompressed: about a
	// third of the CPU of gzip level 1 and ten times the disk.
	Uncompressed bool
}

// RenderedURIPrefix starts the WARC-Target-URI of the resource record that
// holds a browser-rendered DOM: "urn:rendered-dom:" + the page's URL. A URN
// of its own (as Browsertrix's "urn:text:" records) keeps replay tools from
// serving the DOM in place of the response recorded for the URL itself.
const RenderedURIPrefix = "urn:rendered-dom:"

// Location is where one record's gzip member lies: File (a name relative
// to the archive directory), the byte Offset of the member and its Length
// in bytes. It is what an index keeps to read the record without scanning.
type Location struct {
	File   string
	Offset int64
	Length int64
}

// Written says where an exchange's records landed.
type Written struct {
	Request  Location
	Response Location
	// Rendered is the rendered DOM's resource record's location; zero when
	// the exchange had none.
	Rendered Location
	// ResponseID is the response record's WARC-Record-ID.
	ResponseID string
	// PayloadDigest is the response's WARC-Payload-Digest ("sha1:…").
	PayloadDigest string
}

// Stats counts what a Writer wrote.
type Stats struct {
	Files     int   // files opened
	Exchanges int64 // exchanges written
	Bytes     int64 // bytes on disk, warcinfo records included
}

// Writer appends exchanges to WARC files in one directory. It is safe for
// concurrent use: the records of an exchange are built, digested and
// compressed in the calling goroutine, and only the append to the file is
// serialized, under a mutex (no goroutine of its own to own or stop).
type Writer struct {
	opts     Options
	host     string
	recOpts  []gowarc.WarcRecordOption
	gzipPool sync.Pool

	mu     sync.Mutex
	closed bool
	file   *os.File
	name   string
	size   int64
	serial int
	stats  Stats
}

// NewWriter checks the options and creates the directory. The first file is
// opened by the first Write, so a crawl that fetches nothing leaves none.
func NewWriter(o Options) (*Writer, error) {
	if o.Dir == "" {
		return nil, errors.New("archive: no directory")
	}
	if o.MaxFileSize < 0 {
		return nil, fmt.Errorf("archive: max file size %d is negative", o.MaxFileSize)
	}
	if o.MaxFileSize == 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.Prefix == "" {
		o.Prefix = "gather"
	}
	if o.GzipLevel == 0 {
		o.GzipLevel = gzip.BestSpeed
	}
	if o.GzipLevel < gzip.HuffmanOnly || o.GzipLevel > gzip.BestCompression {
		return nil, fmt.Errorf("archive: gzip level %d out of range", o.GzipLevel)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	host := o.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	w := &Writer{
		opts: o,
		host: fileNamePart(host),
		recOpts: []gowarc.WarcRecordOption{
			gowarc.WithAddMissingDigest(true),
			// SHA-1 in base 32: what wget, Heritrix and the CDX digest field
			// use, so every tool compares it without translation.
			gowarc.WithDefaultDigestAlgorithm("sha1"),
			// Bodies up to gather's default size cap stay in memory.
			gowarc.WithBufferMaxMemBytes(16 << 20),
			gowarc.WithRecordIdFunc(newRecordID),
		},
	}
	return w, nil
}

// Write appends the exchange's request, response and (when Rendered is
// set) resource records to the current file, each its own gzip member,
// each naming the others in WARC-Concurrent-To. It returns where they
// landed. A failed write (a full disk) returns the error and leaves the
// file as it was before the call.
func (w *Writer) Write(ex *Exchange) (Written, error) {
	var out Written
	u, err := url.Parse(ex.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return out, fmt.Errorf("archive: target URI %q is not an absolute URL", ex.URL)
	}
	date := ex.Date
	if date.IsZero() {
		date = time.Now()
	}
	date = date.UTC()

	reqRec, err := w.build(gowarc.Request, "application/http;msgtype=request", ex.URL, date, ex.requestHead(u), ex.RequestBody, nil)
	if err != nil {
		return out, err
	}
	defer reqRec.Close()
	var extra []field
	if ex.RemoteIP != "" {
		extra = append(extra, field{gowarc.WarcIPAddress, ex.RemoteIP})
	}
	if ex.Truncated != "" {
		extra = append(extra, field{gowarc.WarcTruncated, ex.Truncated})
	}
	respRec, err := w.build(gowarc.Response, "application/http;msgtype=response", ex.URL, date, ex.responseHead(), ex.Body, extra)
	if err != nil {
		return out, err
	}
	defer respRec.Close()
	recs := []gowarc.WarcRecord{reqRec, respRec}
	if ex.Rendered != nil {
		meta, err := w.build(gowarc.Resource, "text/html; charset=utf-8", RenderedURIPrefix+ex.URL, date, nil, ex.Rendered, nil)
		if err != nil {
			return out, err
		}
		defer meta.Close()
		recs = append(recs, meta)
	}
	for i, r := range recs {
		for j, o := range recs {
			if i != j {
				r.WarcHeader().AddId(gowarc.WarcConcurrentTo, o.RecordId())
			}
		}
	}
	out.ResponseID = respRec.RecordId()
	out.PayloadDigest = respRec.WarcHeader().Get(gowarc.WarcPayloadDigest)

	buf := outBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer outBuffers.Put(buf)
	ends := make([]int, len(recs))
	for i, r := range recs {
		if err := w.compress(buf, r); err != nil {
			return out, err
		}
		ends[i] = buf.Len()
	}

	file, offset, err := w.append(buf.Bytes())
	if err != nil {
		return out, err
	}
	locs := []*Location{&out.Request, &out.Response, &out.Rendered}
	start := 0
	for i := range recs {
		*locs[i] = Location{File: file, Offset: offset + int64(start), Length: int64(ends[i] - start)}
		start = ends[i]
	}
	return out, nil
}

type field struct{ name, value string }

// outBuffers hold an exchange's compressed records until they are
// appended; reused, as a page's worth of buffer was a third of a write's
// allocations.
var outBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// build makes one record with gowarc, which computes Content-Length,
// WARC-Block-Digest and (for HTTP blocks) WARC-Payload-Digest.
// The block is head followed by body, written to the builder in two parts
// rather than joined first: one copy of the body fewer.
func (w *Writer) build(t gowarc.RecordType, contentType, target string, date time.Time, head, body []byte, extra []field) (gowarc.WarcRecord, error) {
	rb := newRecordBuilder(t, w.recOpts...)
	rb.AddWarcHeader(gowarc.WarcTargetURI, target)
	rb.AddWarcHeaderTime(gowarc.WarcDate, date)
	rb.AddWarcHeader(gowarc.ContentType, contentType)
	for _, f := range extra {
		rb.AddWarcHeader(f.name, f.value)
	}
	_, err := rb.Write(head)
	if err == nil {
		_, err = rb.Write(body)
	}
	if err != nil {
		rb.Close()
		return nil, fmt.Errorf("archive: %s record: %w", t, err)
	}
	rec, _, err := rb.Build()
	if err != nil {
		return nil, fmt.Errorf("archive: %s record for %s: %w", t, target, err)
	}
	return rec, nil
}

// compress appends r to buf as one gzip member, so that a reader can
// start decompressing at the member's offset (or as is, Uncompressed).
func (w *Writer) compress(buf *bytes.Buffer, r gowarc.WarcRecord) error {
	if w.opts.Uncompressed {
		if _, _, err := gowarc.NewMarshaler().Marshal(buf, r, 0); err != nil {
			return fmt.Errorf("archive: marshal %s record: %w", r.Type(), err)
		}
		return nil
	}
	gz, _ := w.gzipPool.Get().(*gzip.Writer)
	if gz == nil {
		var err error
		if gz, err = gzip.NewWriterLevel(buf, w.opts.GzipLevel); err != nil {
			return fmt.Errorf("archive: %w", err)
		}
	} else {
		gz.Reset(buf)
	}
	defer w.gzipPool.Put(gz)
	if _, _, err := gowarc.NewMarshaler().Marshal(gz, r, 0); err != nil {
		return fmt.Errorf("archive: marshal %s record: %w", r.Type(), err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}

// append writes b at the end of the current file, rotating first when b
// would take it past MaxFileSize, and returns the file's name and the
// offset b starts at. On a failed write the file is truncated back to
// where b started, so every file holds whole members only.
func (w *Writer) append(b []byte) (string, int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return "", 0, ErrClosed
	}
	if w.file != nil && w.size+int64(len(b)) > w.opts.MaxFileSize {
		if err := w.closeFile(); err != nil {
			return "", 0, err
		}
	}
	if w.file == nil {
		if err := w.openFile(); err != nil {
			return "", 0, err
		}
	}
	offset := w.size
	if err := w.writeAt(b, offset); err != nil {
		return "", 0, err
	}
	if w.opts.SyncEachWrite {
		if err := w.file.Sync(); err != nil {
			return "", 0, fmt.Errorf("archive: fsync %s: %w", w.name, err)
		}
	}
	w.size += int64(len(b))
	w.stats.Exchanges++
	w.stats.Bytes += int64(len(b))
	return w.name, offset, nil
}

// writeAt writes b at offset; on failure it takes the partial bytes back
// out, and when even that fails it gives the file up, so the next write
// starts a new one rather than appending after a torn member.
func (w *Writer) writeAt(b []byte, offset int64) error {
	_, err := w.file.WriteAt(b, offset)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("archive: write %s: %w", w.name, err)
	if terr := w.file.Truncate(offset); terr != nil {
		f := w.file
		w.file = nil
		return errors.Join(err, fmt.Errorf("archive: %s keeps a torn record at offset %d: %w", w.name, offset, terr), f.Close())
	}
	return err
}

// openFile creates the next file, named so that no two processes (or
// hosts, or restarts) collide — prefix, UTC time, serial, host, pid —
// and created exclusively to be sure; it begins with a warcinfo record.
func (w *Writer) openFile() error {
	for tries := 0; ; tries++ {
		w.serial++
		ext := ".warc.gz"
		if w.opts.Uncompressed {
			ext = ".warc"
		}
		name := fmt.Sprintf("%s-%s-%05d-%s-%d%s", w.opts.Prefix, time.Now().UTC().Format("20060102150405"),
			w.serial, w.host, os.Getpid(), ext)
		f, err := os.OpenFile(filepath.Join(w.opts.Dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, os.ErrExist) && tries < 1000 {
			continue
		}
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		w.file, w.name, w.size = f, name, 0
		break
	}
	w.stats.Files++
	info, err := w.warcinfo(w.name)
	if err == nil {
		err = w.writeAt(info, 0)
	}
	if err != nil {
		if w.file != nil {
			w.file.Close()
			w.file = nil
		}
		os.Remove(filepath.Join(w.opts.Dir, w.name))
		return err
	}
	w.size = int64(len(info))
	w.stats.Bytes += w.size
	return nil
}

// warcinfo is a file's first record: what wrote it, for which job, where.
func (w *Writer) warcinfo(name string) ([]byte, error) {
	rb := newRecordBuilder(gowarc.Warcinfo, w.recOpts...)
	rb.AddWarcHeaderTime(gowarc.WarcDate, time.Now().UTC())
	rb.AddWarcHeader(gowarc.WarcFilename, name)
	rb.AddWarcHeader(gowarc.ContentType, gowarc.ApplicationWarcFields)
	var body strings.Builder
	add := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&body, "%s: %s\r\n", k, strings.NewReplacer("\r", " ", "\n", " ").Replace(v))
		}
	}
	add("software", w.opts.Software)
	add("isPartOf", w.opts.Job)
	add("hostname", w.host)
	add("format", "WARC File Format 1.1")
	add("conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/")
	if _, err := rb.WriteString(body.String()); err != nil {
		rb.Close()
		return nil, fmt.Errorf("archive: warcinfo: %w", err)
	}
	rec, _, err := rb.Build()
	if err != nil {
		return nil, fmt.Errorf("archive: warcinfo: %w", err)
	}
	defer rec.Close()
	var buf bytes.Buffer
	if err := w.compress(&buf, rec); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// closeFile fsyncs and closes the current file.
func (w *Writer) closeFile() error {
	f := w.file
	w.file = nil
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("archive: fsync %s: %w", w.name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("archive: close %s: %w", w.name, err)
	}
	return nil
}

// Sync fsyncs the current file: every Location returned before the call
// survives a crash or power cut once it returns.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.file == nil {
		return nil
	}
	if err := w.file.Sync(); err != nil {
		return fmt.Errorf("archive: fsync %s: %w", w.name, err)
	}
	return nil
}

// Stats returns what the writer has written so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Dir is the directory the writer writes to; Locations are relative to it.
func (w *Writer) Dir() string { return w.opts.Dir }

// Close fsyncs and closes the current file. Writes after Close return
// ErrClosed; a second Close returns nil.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.file == nil {
		return nil
	}
	return w.closeFile()
}

// fileNamePart keeps a host name safe in a file name.
func fileNamePart(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
	if s == "" {
		return "localhost"
	}
	return s
}
