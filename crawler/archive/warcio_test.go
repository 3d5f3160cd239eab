package archive

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// warcio.js (webrecorder's WARC library and CLI, from npm) is the
// archivists' tool these tests hold the files to. .ci/run installs it and
// sets both variables; without them the tests skip.
const (
	warcioDirEnv     = "GATHER_WARCIO_DIR"     // a node_modules directory holding warcio
	warcioRequireEnv = "GATHER_REQUIRE_WARCIO" // turns a missing warcio into a failure
)

func needWarcio(t *testing.T) (node, modules string) {
	t.Helper()
	skip := func(msg string) {
		if os.Getenv(warcioRequireEnv) != "" {
			t.Fatalf("%s (%s is set)", msg, warcioRequireEnv)
		}
		t.Skipf("%s; npm install warcio into a directory and set %s to its node_modules, or set %s=1 to make this a failure",
			msg, warcioDirEnv, warcioRequireEnv)
	}
	if testing.Short() {
		t.Skip("runs node; skipped under -short")
	}
	modules = os.Getenv(warcioDirEnv)
	if modules == "" {
		skip(warcioDirEnv + " is not set")
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

// archiveForTools writes the test site three times over into files small
// enough to rotate, with a rendered DOM on some pages, and returns the
// directory, closed.
func archiveForTools(t *testing.T) string {
	t.Helper()
	srv := newSite(t)
	w := newTestWriter(t, Options{MaxFileSize: 60_000})
	client := noRedirects()
	for round := 0; round < 3; round++ {
		for i, p := range sitePaths {
			ex := get(t, client, srv.URL+p)
			if i%3 == 0 {
				ex.Rendered = []byte("<html><body>rendered " + p + "</body></html>")
			}
			if _, err := w.Write(ex); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Dir()
}

func baseNames(t *testing.T, dir string) []string {
	t.Helper()
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	return names
}

func run(t *testing.T, dir string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s wrote to stderr:\n%s", filepath.Base(name), stderr.String())
	}
	return out
}

// warcio.js indexes every record of every file where the writer said it
// put it, and its parse of each block matches both digests.
func TestWarcio_IndexesEveryRecordAndDigestsVerify(t *testing.T) {
	node, modules := needWarcio(t)
	dir := archiveForTools(t)
	names := baseNames(t, dir)
	if len(names) < 2 {
		t.Fatalf("%d files: the test wants rotation", len(names))
	}

	// What this package's own scan finds, keyed by file and offset.
	type rec struct {
		typ, id, uri string
		length       int64
	}
	ours := map[string]rec{}
	for e, err := range ScanAll(dir) {
		if err != nil {
			t.Fatal(err)
		}
		key := e.Location.File + "@" + itoa(e.Location.Offset)
		ours[key] = rec{e.Record.Type, "<urn:uuid:" + strings.TrimPrefix(e.Record.ID, "urn:uuid:") + ">", e.Record.URL, e.Location.Length}
	}

	// warcio's CLI: `warcio index` with offsets and lengths.
	cli := filepath.Join(modules, ".bin", "warcio")
	args := append(append([]string{cli, "index"}, names...), "--fields", "offset,length,warc-type,warc-record-id,warc-target-uri,filename")
	out := run(t, dir, node, args...)
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l struct {
			Offset   int64  `json:"offset"`
			Length   int64  `json:"length"`
			Type     string `json:"warc-type"`
			ID       string `json:"warc-record-id"`
			URI      string `json:"warc-target-uri"`
			Filename string `json:"filename"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("warcio index line %q: %v", sc.Text(), err)
		}
		key := l.Filename + "@" + itoa(l.Offset)
		o, ok := ours[key]
		if !ok {
			t.Errorf("warcio indexes a record at %s that the scan does not", key)
			continue
		}
		if o.typ != l.Type || o.id != l.ID || o.length != l.Length || (l.Type != "warcinfo" && o.uri != l.URI) {
			t.Errorf("%s: warcio says %s %s %s length %d; scan says %+v", key, l.Type, l.ID, l.URI, l.Length, o)
		}
		seen++
	}
	if seen != len(ours) || seen == 0 {
		t.Errorf("warcio indexed %d records, the scan found %d", seen, len(ours))
	}

	// Digests, over warcio.js's parse of each block.
	script, _ := filepath.Abs("testdata/verify-digests.mjs")
	cmd := exec.Command(node, append([]string{script}, names...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WARCIO_MODULES="+modules)
	dout, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("verify-digests: %v\n%s", err, dout)
	}
	counts := map[string]int{}
	sc = bufio.NewScanner(bytes.NewReader(dout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			Type          string `json:"type"`
			BlockDigest   bool   `json:"blockDigest"`
			PayloadDigest *bool  `json:"payloadDigest"`
			FirstLine     string `json:"firstLine"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("verify-digests line %q: %v", sc.Text(), err)
		}
		if !l.BlockDigest || (l.PayloadDigest != nil && !*l.PayloadDigest) {
			t.Errorf("digest mismatch: %s", sc.Text())
		}
		counts[l.Type]++
	}
	exchanges := 3 * len(sitePaths)
	if counts["request"] != exchanges || counts["response"] != exchanges || counts["warcinfo"] != len(names) || counts["resource"] != 9 {
		t.Errorf("records by type %v; want %d requests and responses, %d warcinfo, 9 resources", counts, exchanges, len(names))
	}
	t.Logf("warcio.js indexed %d records in %d files; digests verified: %v", seen, len(names), counts)

	// The check can fail: one body byte changed (gzip recomputed) is caught.
	var victim Entry
	for e, err := range Scan(dir) {
		if err == nil && len(e.Record.Body) > 100 {
			victim = e
			break
		}
	}
	path := filepath.Join(dir, victim.Location.File)
	block := rawMember(t, path, victim.Location)
	block[len(block)-20] ^= 0x20
	data, _ := os.ReadFile(path)
	data = append(append(append([]byte{}, data[:victim.Location.Offset]...), gzipBytes(t, block)...), data[victim.Location.Offset+victim.Location.Length:]...)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(node, script, victim.Location.File)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WARCIO_MODULES="+modules)
	if bad, err := cmd.CombinedOutput(); err == nil || !bytes.Contains(bad, []byte(`"blockDigest":false`)) {
		t.Errorf("an altered body passed the digest check: %v\n%s", err, bad)
	}
}

// This package's CDXJ is warcio.js's `cdx-index`, line for line.
func TestWarcio_CDXJMatchesCdxIndex(t *testing.T) {
	node, modules := needWarcio(t)
	dir := archiveForTools(t)
	names := baseNames(t, dir)
	cli := filepath.Join(modules, ".bin", "warcio")
	theirs := strings.Split(strings.TrimSpace(string(run(t, dir, node, append([]string{cli, "cdx-index"}, names...)...))), "\n")
	sort.Strings(theirs)

	var b bytes.Buffer
	n, skipped, err := CDXJ(&b, dir)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("CDXJ: %v, skipped %v", err, skipped)
	}
	ours := strings.Split(strings.TrimSpace(b.String()), "\n")
	if n != len(ours) {
		t.Errorf("CDXJ says %d lines, wrote %d", n, len(ours))
	}
	if len(ours) != len(theirs) {
		t.Errorf("%d lines, warcio.js %d", len(ours), len(theirs))
	}
	for i := 0; i < len(ours) && i < len(theirs); i++ {
		if ours[i] != theirs[i] {
			t.Errorf("line %d:\n ours   %s\n warcio %s", i, ours[i], theirs[i])
		}
	}
	t.Logf("%d CDXJ lines equal warcio.js cdx-index's; first: %s", len(ours), ours[0])
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
