package htmlparse

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// upstream is the x/net release this copy was last ported from, and
// upstreamSums the SHA-256 of the x/net/html files it follows, as that
// release has them.
const upstream = "v0.62.0"

var upstreamSums = map[string]string{
	"parse.go":   "5ce8bf09eee2642e6d08ff4dcdd827fc7f51e2f943c744f901a874956056a2b2",
	"token.go":   "28e4cab66406c656cd2ae007517bac998b3d68d18fce0e0717ed98bed44ed336",
	"const.go":   "44c814afac4b0206a4f2af92607f93a72b93919ec2c3884d372edcdc24507584",
	"doctype.go": "b629b17ed04bcab8d832d8caaee00f458c180fd31b6838e318a439a4bf87fffe",
	"entity.go":  "680a9bb55e7eca9bc0cbee59755591ab9f97abf3fe39490211eb088cc2cd62c2",
	"escape.go":  "d0dfaa8c3b36ef9d4578dfdf9480c654252afc6a09128d96d570e74c563c82c9",
	"foreign.go": "d227ce6839726bb85fc88ec95df265901da8a04d7e2f7261101bdc7b4d1af1ad",
	"node.go":    "3acf739c450f61abd0fc45ccb19e4ddde2982b798791037a6a03c78603b6176f",
}

// The copy does not follow x/net by itself. This compares the content of
// the x/net/html files it follows, in the x/net that go.mod uses, with
// what they were when the copy was ported: a bump of x/net that leaves
// them alone (most releases) passes; one that changes them (a security
// fix among them) fails until the change is carried over to this copy
// (see doc.go), or the build switches to x/net's own parser
// (-tags xnethtml) meanwhile.
func TestCopyFollowsTheXNetInUse(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to find x/net's module")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}} {{.Dir}}", "golang.org/x/net").Output()
	if err != nil {
		t.Fatalf("go list -m golang.org/x/net: %v", err)
	}
	version, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if dir == "" {
		t.Skipf("x/net %s is not in the module cache (go mod download)", version)
	}
	var changed []string
	for name, want := range upstreamSums {
		b, err := os.ReadFile(filepath.Join(dir, "html", name))
		if err != nil {
			t.Fatalf("x/net %s: %v", version, err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != want {
			changed = append(changed, name)
		}
	}
	if len(changed) > 0 {
		t.Fatalf("x/net %s changed html/%s since %s, which this copy was ported from: carry the changes over (diff the two releases' files; see doc.go) and update upstream and upstreamSums, or build with -tags xnethtml to use x/net's parser until then",
			version, strings.Join(changed, ", html/"), upstream)
	}
}
