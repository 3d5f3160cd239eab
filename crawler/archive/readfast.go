package archive

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/nlnwa/gowarc/v3"
)

// ReadResponse reads the response record at loc as Read does, on a
// shorter road when the record is a gzip member, as gather writes them:
// the member is inflated once into a buffer of exactly its size (its
// trailer says it), its CRC-32 and length are checked (gzip's own check of
// every byte), the WARC and HTTP headers are parsed, and the body is a
// slice of that buffer, not a copy. The WARC digests are not computed
// again: under an intact CRC they can only disagree with a record written
// wrong, which gather's writer does not do (gowarc computes them as it
// builds the record), and they were two passes of SHA-1 over every body
// and a third of a read's CPU (BenchmarkReader_ReadAt). Read, ReadAt and
// Scan still verify them.
//
// Anything the short road does not expect — an uncompressed file, another
// record type, a member that is not whole — is read by Read, which
// reports exactly what is wrong. gather reextract reads its pages so.
func (r *Reader) ReadResponse(loc Location) (*Record, error) {
	f, err := r.open(loc.File)
	if err != nil {
		return nil, err
	}
	if rec, ok := readResponseFast(f, loc); ok {
		return rec, nil
	}
	return readAt(f, loc)
}

// maxFastRecord bounds the buffer the short road allocates from a
// member's trailer (which it has not checked yet); larger records take
// the long road, which streams.
const maxFastRecord = 64 << 20

// compressedBufs hold a member's compressed bytes while it is inflated.
var compressedBufs = sync.Pool{New: func() any { return new([]byte) }}

var gzipReaders sync.Pool

// readResponseFast is ReadResponse's short road; ok false means "take the
// long road", for any reason (the long road names it).
func readResponseFast(f io.ReaderAt, loc Location) (*Record, bool) {
	if loc.Offset < 0 || loc.Length < 18 || loc.Length > maxFastRecord {
		return nil, false
	}
	// One read of the whole member: a few KB for a page, where the long
	// road's bufio and section reader made several.
	bp := compressedBufs.Get().(*[]byte)
	defer compressedBufs.Put(bp)
	if int64(cap(*bp)) < loc.Length {
		*bp = make([]byte, loc.Length)
	}
	member := (*bp)[:loc.Length]
	if _, err := f.ReadAt(member, loc.Offset); err != nil {
		return nil, false
	}
	if member[0] != 0x1f || member[1] != 0x8b {
		return nil, false
	}
	// ISIZE, the trailer's last four bytes: the inflated length modulo
	// 2^32, checked by the gzip reader at the end.
	size := int64(binary.LittleEndian.Uint32(member[len(member)-4:]))
	if size < int64(len("WARC/1.1\r\n\r\n\r\n\r\n")) || size > maxFastRecord {
		return nil, false
	}
	src := bytes.NewReader(member)
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	if zr == nil {
		var err error
		if zr, err = gzip.NewReader(src); err != nil {
			return nil, false
		}
	} else if err := zr.Reset(src); err != nil {
		return nil, false
	}
	zr.Multistream(false)
	out := make([]byte, size)
	_, err := io.ReadFull(zr, out)
	if err == nil {
		// The member's end: the CRC-32 and length are checked here.
		var one [1]byte
		if n, e := zr.Read(one[:]); n != 0 || e != io.EOF {
			err = errors.New("longer than its trailer says")
		}
	}
	if err != nil || src.Len() != 0 {
		return nil, false // a torn or damaged member, or bytes after it
	}
	gzipReaders.Put(zr)
	rec, err := parseResponse(out)
	if err != nil {
		return nil, false
	}
	return rec, true
}

// parseResponse reads a whole uncompressed response record, as the
// writer lays it out: version line, WARC fields, a blank line, the block
// of Content-Length bytes, and the end-of-record CRLF CRLF.
func parseResponse(b []byte) (*Record, error) {
	line, rest, ok := bytes.Cut(b, []byte("\r\n"))
	if !ok || !bytes.Equal(line, []byte("WARC/1.1")) && !bytes.Equal(line, []byte("WARC/1.0")) {
		return nil, errors.New("no WARC version line")
	}
	end := bytes.Index(rest, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, errors.New("no end of the WARC header")
	}
	fields, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(rest[:end+4]))).ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	h := http.Header(fields)
	block := rest[end+4:]
	if n, err := strconv.ParseInt(h.Get(gowarc.ContentLength), 10, 64); err != nil || n != int64(len(block))-4 ||
		!bytes.HasSuffix(block, []byte("\r\n\r\n")) {
		return nil, errors.New("the block is not Content-Length bytes and the end of record")
	}
	block = block[:len(block)-4]
	if h.Get(gowarc.WarcType) != "response" || !strings.HasPrefix(strings.ToLower(h.Get(gowarc.ContentType)), gowarc.ApplicationHttp) {
		return nil, errors.New("not an HTTP response record")
	}
	out := &Record{
		Type:          "response",
		ID:            unbracket(h.Get(gowarc.WarcRecordID)),
		URL:           h.Get(gowarc.WarcTargetURI),
		PayloadDigest: h.Get(gowarc.WarcPayloadDigest),
		Truncated:     h.Get(gowarc.WarcTruncated),
		ContentType:   h.Get(gowarc.ContentType),
	}
	if out.Date, err = time.Parse(time.RFC3339Nano, h.Get(gowarc.WarcDate)); err != nil {
		return nil, err
	}
	for _, id := range h.Values(gowarc.WarcConcurrentTo) {
		out.ConcurrentTo = append(out.ConcurrentTo, unbracket(id))
	}
	// The HTTP head, parsed as gowarc parses it (net/http), so both roads
	// give the same header; the body is what follows it.
	head := bytes.Index(block, []byte("\r\n\r\n"))
	if head < 0 {
		return nil, errors.New("no end of the HTTP header")
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(block[:head+4])), nil)
	if err != nil {
		return nil, err
	}
	first, _, _ := bytes.Cut(block, []byte(" "))
	out.Proto = string(first)
	out.Status, out.StatusCode, out.Header = resp.Status, resp.StatusCode, resp.Header
	if out.Header == nil {
		out.Header = http.Header{}
	}
	out.Body = block[head+4:]
	return out, nil
}

func unbracket(s string) string {
	return strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
}
