package htmlparse

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gather-crawler/gather/internal/testingutil"
)

// upstream is the x/net release this copy was taken from.
const upstream = "v0.61.0"

// The copy does not follow x/net by itself: when go.mod moves to another
// x/net, this fails until someone has carried that release's changes to
// parse.go and token.go (security fixes among them) over to this copy and
// updated upstream and doc.go.
func TestCopyFollowsTheXNetInUse(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(testingutil.RepoRoot(), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*golang\.org/x/net (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod does not require golang.org/x/net: htmlparse's differential test needs it")
	}
	if v := string(m[1]); v != upstream {
		t.Fatalf("go.mod uses golang.org/x/net %s, but htmlparse is a copy of %s's parser: port the changes between them (see doc.go), then update upstream", v, upstream)
	}
}
