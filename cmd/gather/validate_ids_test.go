package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// gather validate reads the whole ids file and names the lines a crawl
// would skip — a 2 MiB line, an id that cannot be a path segment — with
// exit code 2; a good file is counted.
func TestValidate_IDsFileBadLines(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 1; i <= 1000; i++ {
		if i == 501 {
			b.WriteString(strings.Repeat("x", 2<<20) + "\n")
		}
		fmt.Fprintf(&b, "tt%07d\n", i)
	}
	b.WriteString("..\n")
	writeFile(t, dir, "ids.txt", b.String())
	cfg := writeFile(t, dir, "job.yaml", strings.Replace(crawlYAML("https://example.com"),
		"    ids: [tt0000001, tt0000002, tt0000003]\n", "    ids_file: ids.txt\n", 1))
	code, stdout, stderr := runGather(t, "validate", "-c", cfg)
	if code != exitUsage {
		t.Errorf("exit %d, want 2; %s", code, stdout)
	}
	for _, want := range []string{
		"job.yaml: crawl.start.ids_file: " + filepath.Join(dir, "ids.txt") + " line 501: 2097152 bytes long, over the 64 KiB limit for a line",
		"line 1002: id \"..\" cannot be a path segment",
		"2 bad lines in all, which a crawl skips (it crawls the 1000 good ids)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	writeFile(t, dir, "ids.txt", "# two\ntt0000001\ntt0000002\n")
	code, stdout, stderr = runGather(t, "validate", "-c", cfg)
	if code != exitOK || !strings.Contains(stdout, "ids_file  "+filepath.Join(dir, "ids.txt")+": 2 ids (streamed)") {
		t.Errorf("exit %d:\n%s%s", code, stdout, stderr)
	}
}
