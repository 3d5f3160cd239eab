package archive

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// archiveSite writes the test site into a fresh archive of one file and
// returns the file and the exchanges' locations in order.
func archiveSite(t *testing.T) (path string, written []Written) {
	t.Helper()
	srv := newSite(t)
	w := newTestWriter(t, Options{})
	client := noRedirects()
	for _, p := range sitePaths {
		wr, err := w.Write(get(t, client, srv.URL+p))
		if err != nil {
			t.Fatal(err)
		}
		written = append(written, wr)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(w.Dir(), written[0].Response.File), written
}

type scanned struct {
	entries []Entry
	corrupt []*CorruptError
}

func scanOf(t *testing.T, path string) scanned {
	t.Helper()
	var s scanned
	for e, err := range Scan(path) {
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("scan: %v", err)
			}
			s.corrupt = append(s.corrupt, ce)
			continue
		}
		s.entries = append(s.entries, e)
	}
	return s
}

func TestScan_YieldsEveryResponseWithItsLocation(t *testing.T) {
	path, written := archiveSite(t)
	s := scanOf(t, path)
	if len(s.corrupt) != 0 {
		t.Fatalf("corrupt: %v", s.corrupt)
	}
	if len(s.entries) != len(written) {
		t.Fatalf("%d responses, want %d", len(s.entries), len(written))
	}
	for i, e := range s.entries {
		if e.Location != written[i].Response {
			t.Errorf("entry %d at %+v, written at %+v", i, e.Location, written[i].Response)
		}
		if e.Record.Type != "response" || e.Record.ID != written[i].ResponseID {
			t.Errorf("entry %d: %s %s", i, e.Record.Type, e.Record.ID)
		}
	}
	// A directory scans the same.
	if d := scanOf(t, filepath.Dir(path)); len(d.entries) != len(written) || d.entries[0].Location != written[0].Response {
		t.Errorf("directory scan: %d entries, first %+v", len(d.entries), d.entries[0].Location)
	}
}

// Damage in the middle (flipped bytes) and at the end (a torn last member,
// garbage after it) is reported at the member's offset and skipped; every
// other record is still read.
func TestScan_ReportsAndSkipsCorruptMembers(t *testing.T) {
	path, written := archiveSite(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := written[2].Response // the chunked page
	for i := flipped.Offset + flipped.Length/2; i < flipped.Offset+flipped.Length/2+8; i++ {
		data[i] ^= 0xff
	}
	last := written[len(written)-1].Response
	data = data[:last.Offset+last.Length-10] // torn: the crash of a writer mid-member
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s := scanOf(t, path)
	var offsets []int64
	for _, c := range s.corrupt {
		offsets = append(offsets, c.Offset)
	}
	sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
	if len(offsets) < 2 || offsets[0] != flipped.Offset || offsets[len(offsets)-1] < last.Offset {
		t.Errorf("corrupt at %v, want %d (flipped) and %d (torn)", offsets, flipped.Offset, last.Offset)
	}
	got := map[int64]bool{}
	for _, e := range s.entries {
		got[e.Location.Offset] = true
	}
	for i, wr := range written {
		want := i != 2 && i != len(written)-1
		if got[wr.Response.Offset] != want {
			t.Errorf("response %d (%s) read: %v, want %v", i, sitePaths[i], got[wr.Response.Offset], want)
		}
	}
	// Reading the damaged member directly is an error, not a panic.
	if _, err := ReadAt(filepath.Dir(path), flipped); err == nil {
		t.Error("the flipped member read without error")
	}
	if _, err := ReadAt(filepath.Dir(path), written[3].Response); err != nil {
		t.Errorf("an intact member after the damage: %v", err)
	}
}

// A record whose bytes were altered and whose gzip was recomputed to
// match — a body changed after the fact — fails its WARC digest.
func TestReadAt_RefusesADigestMismatch(t *testing.T) {
	dir := t.TempDir()
	w := newTestWriter(t, Options{Dir: dir})
	srv := newSite(t)
	ex := get(t, noRedirects(), srv.URL+"/page")
	wr, err := w.Write(ex)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	path := filepath.Join(dir, wr.Response.File)
	block := rawMember(t, path, wr.Response)
	i := len(block) - 10 // inside the body
	block[i] ^= 0x20
	member := gzipBytes(t, block)
	data, _ := os.ReadFile(path)
	out := append(append(append([]byte{}, data[:wr.Response.Offset]...), member...), data[wr.Response.Offset+wr.Response.Length:]...)
	os.WriteFile(path, out, 0o644)
	loc := wr.Response
	loc.Length = int64(len(member))
	if _, err := ReadAt(dir, loc); err == nil {
		t.Fatal("a record with a wrong digest was read without error")
	}
	s := scanOf(t, path)
	if len(s.corrupt) != 1 || s.corrupt[0].Offset != wr.Response.Offset || len(s.entries) != 0 {
		t.Errorf("scan: %d entries, corrupt %v", len(s.entries), s.corrupt)
	}
}

// Cut a file at every length and flip every byte of a small archive: the
// scan never panics, never yields a record that fails its digests, and
// yields every whole record before the damage.
func TestScan_NeverPanicsOnDamage(t *testing.T) {
	path, written := archiveSite(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.warc.gz")
	step := 61 // about 1,270 cuts of the 77 KB file
	if testing.Short() {
		step = 197
	}
	for n := 0; n < len(data); n += step {
		os.WriteFile(cut, data[:n], 0o644)
		s := scanOf(t, cut)
		whole := 0
		for _, wr := range written {
			if wr.Response.Offset+wr.Response.Length <= int64(n) {
				whole++
			}
		}
		if len(s.entries) != whole {
			t.Fatalf("cut at %d: %d responses, want the %d whole ones", n, len(s.entries), whole)
		}
	}
	flip := filepath.Join(dir, "flip.warc.gz")
	for i := 0; i < len(data); i += step * 7 {
		d := append([]byte{}, data...)
		d[i] ^= 0x55
		os.WriteFile(flip, d, 0o644)
		s := scanOf(t, flip)
		if len(s.entries) < len(written)-1 {
			t.Fatalf("byte %d flipped: %d responses, want all but one of %d", i, len(s.entries), len(written))
		}
	}
}

// rawMember is the decompressed bytes of the member at loc.
func rawMember(t *testing.T, path string, loc Location) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(io.NewSectionReader(f, loc.Offset, loc.Length))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
