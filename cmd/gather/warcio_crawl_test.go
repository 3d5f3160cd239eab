package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gather-crawler/gather/crawler/archive"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// needWarcio is crawler/archive's: warcio.js (npm) in GATHER_WARCIO_DIR,
// mandatory when GATHER_REQUIRE_WARCIO is set (.ci/run sets both).
func needWarcio(t *testing.T) (node, modules string) {
	t.Helper()
	skip := func(msg string) {
		if os.Getenv("GATHER_REQUIRE_WARCIO") != "" {
			t.Fatalf("%s (GATHER_REQUIRE_WARCIO is set)", msg)
		}
		t.Skipf("%s; npm install warcio into a directory and set GATHER_WARCIO_DIR to its node_modules", msg)
	}
	if testing.Short() {
		t.Skip("runs node; skipped under -short")
	}
	modules = os.Getenv("GATHER_WARCIO_DIR")
	if modules == "" {
		skip("GATHER_WARCIO_DIR is not set")
	}
	if _, err := os.Stat(filepath.Join(modules, "warcio", "package.json")); err != nil {
		skip("no warcio in " + modules)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("no node on PATH")
	}
	return node, modules
}

// The files a real `gather crawl` writes pass warcio.js: its index finds
// every record, each page's indexed response (gather_archive) is a
// response record of that page where warcio finds one, and every block
// and payload digest verifies.
func TestWarcio_AcceptsWhatACrawlWrites(t *testing.T) {
	node, modules := needWarcio(t)
	site, err := demo.New(demo.Options{}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	dir := t.TempDir()
	const n = 150
	cfg := demoJob(t, dir, site, n, "title: {css: title}")
	// Files small enough to rotate: the index must name the right one.
	writeFile(t, dir, "job.yaml", string(must(os.ReadFile(cfg)))+"archive: {max_file_size: 1MB}\n")
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	wdir := filepath.Join(dir, "out.warc")
	files, err := archive.Files(wdir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("%d files: the test wants the archive rotated", len(files))
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}

	type rec struct {
		Offset   int64  `json:"offset"`
		Length   int64  `json:"length"`
		Type     string `json:"warc-type"`
		URI      string `json:"warc-target-uri"`
		Filename string `json:"filename"`
	}
	cli := filepath.Join(modules, ".bin", "warcio")
	cmd := exec.Command(node, append(append([]string{cli, "index"}, names...), "--fields", "offset,length,warc-type,warc-target-uri,filename")...)
	cmd.Dir = wdir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("warcio index: %v", err)
	}
	theirs := map[string]rec{}
	types := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r rec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("warcio index line %q: %v", sc.Text(), err)
		}
		theirs[fmt.Sprintf("%s@%d", r.Filename, r.Offset)] = r
		types[r.Type]++
	}
	if types["warcinfo"] != len(files) || types["response"] < n || types["request"] != types["response"] {
		t.Errorf("warcio index finds %v in %d files; want a warcinfo a file and a request for each of at least %d responses", types, len(files), n)
	}

	// Each page's index row points at its response, as warcio reads it.
	db := gathertest.OpenDB(t, filepath.Join(dir, "out.db"))
	rows, err := db.Query(`SELECT url, file, offset, length FROM gather_archive`)
	if err != nil {
		t.Fatal(err)
	}
	indexed := 0
	for rows.Next() {
		var u, f string
		var off, length int64
		if err := rows.Scan(&u, &f, &off, &length); err != nil {
			t.Fatal(err)
		}
		r, ok := theirs[fmt.Sprintf("%s@%d", f, off)]
		if !ok || r.Type != "response" || r.URI != u || r.Length != length {
			t.Errorf("gather_archive says %s is at %s@%d (%d bytes); warcio finds %+v there", u, f, off, length, r)
		}
		indexed++
	}
	rows.Close()
	if indexed != n {
		t.Errorf("%d pages indexed, want %d", indexed, n)
	}

	// Every digest, checked over warcio.js's parse of each block.
	script, _ := filepath.Abs("../../crawler/archive/testdata/verify-digests.mjs")
	cmd = exec.Command(node, append([]string{script}, names...)...)
	cmd.Dir = wdir
	cmd.Env = append(os.Environ(), "WARCIO_MODULES="+modules)
	dout, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("verify-digests: %v\n%s", err, dout)
	}
	checked := 0
	sc = bufio.NewScanner(bytes.NewReader(dout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			BlockDigest   bool  `json:"blockDigest"`
			PayloadDigest *bool `json:"payloadDigest"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("verify-digests line %q: %v", sc.Text(), err)
		}
		if !l.BlockDigest || (l.PayloadDigest != nil && !*l.PayloadDigest) {
			t.Errorf("digest mismatch: %s", sc.Text())
		}
		checked++
	}
	if checked != len(theirs) {
		t.Errorf("digests of %d records checked, warcio indexed %d", checked, len(theirs))
	}
	t.Logf("a crawl of %d pages wrote %d files; warcio.js indexed %v; %d records' digests verified", n, len(files), types, checked)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
