//go:build linux

package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

const diskFullChild = "ARCHIVE_TEST_DISKFULL_DIR"

// The file-size limit (RLIMIT_FSIZE) is a full disk as a process sees it:
// a write past it fails (EFBIG; Go ignores SIGXFSZ). A child process with
// the limit writes until the archive refuses; the error comes back, the
// file holds whole records only, and every location returned before the
// error reads back.
func TestWriter_FullDiskReturnsAnErrorAndLeavesWholeRecords(t *testing.T) {
	dir := t.TempDir()
	const limit = 150_000
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriter_DiskFullChild$", "-test.v")
	cmd.Env = append(os.Environ(), diskFullChild+"="+dir, fmt.Sprintf("ARCHIVE_TEST_FSIZE=%d", limit))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	resultLine := ""
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "RESULT ") {
			resultLine = strings.TrimPrefix(l, "RESULT ")
		}
	}
	var res struct {
		Err     string
		EFBIG   bool
		Written []Written
	}
	if err := json.Unmarshal([]byte(resultLine), &res); err != nil {
		t.Fatalf("child said %q: %v\n%s", resultLine, err, out)
	}
	if !res.EFBIG || len(res.Written) == 0 {
		t.Fatalf("child: error %q (EFBIG %v) after %d exchanges\n%s", res.Err, res.EFBIG, len(res.Written), out)
	}
	files, err := Files(dir)
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v, %v", files, err)
	}
	info, _ := os.Stat(files[0])
	if info.Size() > limit {
		t.Errorf("file is %d bytes, over the limit %d", info.Size(), limit)
	}
	last := res.Written[len(res.Written)-1].Response
	if info.Size() != last.Offset+last.Length {
		t.Errorf("file is %d bytes; the last record written ends at %d: the failed write left bytes behind", info.Size(), last.Offset+last.Length)
	}
	n := 0
	for _, err := range Scan(dir) {
		if err != nil {
			t.Errorf("scan after the full disk: %v", err)
		}
		n++
	}
	if n != len(res.Written) {
		t.Errorf("scan found %d responses, %d were written", n, len(res.Written))
	}
	for _, wr := range res.Written {
		if _, err := ReadAt(dir, wr.Response); err != nil {
			t.Errorf("read %+v: %v", wr.Response, err)
		}
	}
	t.Logf("%d exchanges written before: %s", len(res.Written), res.Err)
}

// TestWriter_DiskFullChild is the child process of the test above.
func TestWriter_DiskFullChild(t *testing.T) {
	dir := os.Getenv(diskFullChild)
	if dir == "" {
		t.Skip("run by TestWriter_FullDiskReturnsAnErrorAndLeavesWholeRecords")
	}
	srv := newSite(t)
	w, err := NewWriter(Options{Dir: dir, Software: "gather/test", Job: "full-disk"})
	if err != nil {
		t.Fatal(err)
	}
	var limit uint64
	fmt.Sscan(os.Getenv("ARCHIVE_TEST_FSIZE"), &limit)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		t.Fatal(err)
	}
	client := noRedirects()
	var res struct {
		Err     string
		EFBIG   bool
		Written []Written
	}
	for i := 0; i < 1000; i++ {
		p := sitePaths[i%len(sitePaths)]
		wr, err := w.Write(get(t, client, srv.URL+p))
		if err != nil {
			res.Err = err.Error()
			res.EFBIG = errors.Is(err, syscall.EFBIG)
			// A second try fails the same way and still leaves the file whole.
			if _, err2 := w.Write(get(t, client, srv.URL+"/binary.png")); err2 == nil {
				res.Err += "; but a second write went through"
				res.EFBIG = false
			}
			break
		}
		res.Written = append(res.Written, wr)
	}
	if err := w.Close(); err != nil {
		res.Err += "; close: " + err.Error()
	}
	b, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", b)
}
