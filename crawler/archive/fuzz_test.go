package archive

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzScan feeds arbitrary bytes to Scan and ReadAt as a WARC file: they
// never panic, and every response they yield has the digest of its body.
// The seeds are a real archive and pieces of it.
func FuzzScan(f *testing.F) {
	dir := f.TempDir()
	w, err := NewWriter(Options{Dir: dir, Software: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	for i, body := range []string{"<html>one</html>", "", "\x00\xff binary"} {
		_, err := w.Write(&Exchange{
			Method: "GET", URL: "http://127.0.0.1/p" + string(rune('a'+i)),
			RequestHeader: http.Header{"User-Agent": {"fuzz"}},
			Proto:         "HTTP/1.1", StatusCode: 200, Status: "200 OK",
			Header: http.Header{"Content-Type": {"text/html"}},
			Body:   []byte(body), Date: time.Unix(1700000000, 0),
		})
		if err != nil {
			f.Fatal(err)
		}
	}
	w.Close()
	files, _ := Files(dir)
	data, err := os.ReadFile(files[0])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add(data[len(data)/3:])
	f.Add([]byte("WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 5\r\n\r\nHTTP/"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "f.warc.gz")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for e, err := range Scan(path) {
			if err != nil {
				continue
			}
			if e.Record.PayloadDigest != "" && e.Record.PayloadDigest != sha1Digest(e.Record.Body) {
				t.Fatalf("yielded a response whose body does not match its digest at %+v", e.Location)
			}
		}
		ReadAt(filepath.Dir(path), Location{File: "f.warc.gz", Offset: 0, Length: int64(len(b)) + 1})
	})
}
