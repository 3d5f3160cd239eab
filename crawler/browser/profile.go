package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// profilePrefix starts the name of every profile directory, followed by
// the pid of the gather that made it: a gather killed with SIGKILL cannot
// remove its own, so the next browser removes those of dead processes.
const profilePrefix = "gather-chromium-"

// newProfile makes a fresh profile directory for one Chromium.
func newProfile() (string, error) {
	return os.MkdirTemp("", fmt.Sprintf("%s%d-", profilePrefix, os.Getpid()))
}

// sweepProfiles removes the profile directories left in the temp dir by
// gathers that are no longer running, and says how many it removed.
func sweepProfiles() int {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), profilePrefix+"*"))
	n := 0
	for _, m := range matches {
		pidStr, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(m), profilePrefix), "-")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		if os.RemoveAll(m) == nil {
			n++
		}
	}
	return n
}
