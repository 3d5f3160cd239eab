package archive

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// ReadResponse's short road gives back exactly the record the verifying
// road (ReadAt) gives, for every shape of the test site's exchanges: a
// plain page, a gzip-encoded one, a chunked one, Latin-1, a redirect, a
// binary body, a 404.
func TestReadResponse_SameAsReadAt(t *testing.T) {
	srv := newSite(t)
	w := newTestWriter(t, Options{})
	written := writeSite(t, w, srv)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	r := NewReader(w.Dir())
	defer r.Close()
	f, err := r.open(written[sitePaths[0]].Response.File)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range sitePaths {
		wr := written[p]
		want, err := ReadAt(w.Dir(), wr.Response)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		// The short road itself, not its fallback.
		fast, ok := readResponseFast(f, wr.Response)
		if !ok {
			t.Fatalf("%s: the short road refused an intact response record", p)
		}
		if !reflect.DeepEqual(fast, want) {
			t.Errorf("%s: short road %+v\nverifying road %+v", p, fast, want)
		}
		got, err := r.ReadResponse(wr.Response)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ReadResponse %v", p, err)
		}
		// A request record is not a response: the long road reads it.
		req, err := r.ReadResponse(wr.Request)
		if err != nil || req.Type != "request" {
			t.Errorf("%s: the request record through ReadResponse: %v, %v", p, req, err)
		}
	}
}

// A damaged member (a flipped bit, a torn end) is never read as a record:
// the short road leaves it to the long one, which names the damage.
func TestReadResponse_RefusesADamagedMember(t *testing.T) {
	dir := t.TempDir()
	w := newTestWriter(t, Options{Dir: dir})
	srv := newSite(t)
	wr, err := w.Write(get(t, noRedirects(), srv.URL+"/page"))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	path := filepath.Join(dir, wr.Response.File)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, damage := range map[string]func(b []byte) Location{
		"flipped bit": func(b []byte) Location {
			b[wr.Response.Offset+wr.Response.Length/2] ^= 0x04
			return wr.Response
		},
		"torn end": func(b []byte) Location {
			loc := wr.Response
			loc.Length -= 9
			return loc
		},
		"crc": func(b []byte) Location {
			b[wr.Response.Offset+wr.Response.Length-6] ^= 0xff
			return wr.Response
		},
	} {
		t.Run(name, func(t *testing.T) {
			b := append([]byte(nil), orig...)
			loc := damage(b)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			r := NewReader(dir)
			defer r.Close()
			f, err := r.open(loc.File)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := readResponseFast(f, loc); ok {
				t.Error("the short road read a damaged member")
			}
			if rec, err := r.ReadResponse(loc); err == nil {
				t.Errorf("read a damaged member: %d bytes of body", len(rec.Body))
			}
		})
	}
}
