package version_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// RequireInstallEnv makes TestInstall run (and fail rather than skip when
// git or the module proxy is missing). It is opt-in because it fills a
// fresh module cache with every dependency, which takes a minute and the
// network; .ci/run sets it once.
const RequireInstallEnv = "GATHER_REQUIRE_INSTALL"

// TestInstall builds gather the two ways users get it and checks that
// `gather version` tells the truth about each: a build in a git checkout
// names the commit it was built from, and `go install
// github.com/gather-crawler/gather/cmd/gather@vX` from a clean GOPATH and
// module cache names vX. The module is served at that version by a
// file:// proxy made from the checkout's HEAD (git archive, as a tag
// would be), ahead of the real module proxy for the dependencies.
func TestInstall(t *testing.T) {
	if testing.Short() || os.Getenv(RequireInstallEnv) == "" {
		t.Skipf("set %s=1 to build gather from a clean module cache (slow; needs the module proxy)", RequireInstallEnv)
	}
	root := strings.TrimSpace(run(t, "", nil, "git", "rev-parse", "--show-toplevel"))
	tmp := t.TempDir()
	gopath := filepath.Join(tmp, "gopath")
	// GOENV=off: the machine's go env file may say -buildvcs=false.
	env := []string{"GOPATH=" + gopath, "GOMODCACHE=" + filepath.Join(gopath, "pkg", "mod"), "GOBIN=" + filepath.Join(tmp, "bin"),
		"GOFLAGS=", "GOENV=off", "GOTOOLCHAIN=local", "CGO_ENABLED=1"}
	t.Cleanup(func() {
		// The module cache is read-only; go clean makes it removable.
		cmd := exec.Command("go", "clean", "-modcache")
		cmd.Env = append(os.Environ(), env...)
		cmd.Run()
	})

	// A checkout build: a clone of HEAD, so that the tree is a plain
	// repository and clean (a worktree with edits would say "modified"),
	// built as a developer does (go.mod and go.sum as they are).
	src := filepath.Join(tmp, "src")
	run(t, "", nil, "git", "clone", "-q", root, src)
	head := strings.TrimSpace(run(t, src, nil, "git", "rev-parse", "HEAD"))
	when := strings.TrimSpace(run(t, src, nil, "git", "log", "-1", "--format=%cd", "--date=iso-strict"))
	committed, err := time.Parse(time.RFC3339, when)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "checkout-gather")
	start := time.Now()
	run(t, src, env, "go", "build", "-buildvcs=true", "-o", bin, "./cmd/gather")
	t.Logf("checkout build from a clean module cache: %s", time.Since(start).Round(time.Second))
	out := run(t, "", nil, bin, "version")
	for _, want := range []string{
		"gather v0.0.0-" + committed.UTC().Format("20060102150405") + "-" + head[:12] + "\n",
		"revision  " + head + "\n",
		"committed " + committed.UTC().Format(time.RFC3339) + "\n",
		"go        " + runtime.Version() + " ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("checkout build: gather version lacks %q:\n%s", want, out)
		}
	}

	// go install …@version through a module proxy that serves the
	// checkout as v0.99.0 (tools/ is a module of its own, not in the zip).
	const ver = "v0.99.0"
	const mod = "github.com/gather-crawler/gather"
	dir := filepath.Join(tmp, "proxy", mod, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, src, nil, "git", "archive", "--format=zip", "--prefix="+mod+"@"+ver+"/", "-o", filepath.Join(dir, ver+".zip"), "HEAD", ":(exclude)tools")
	gomod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"list":        ver + "\n",
		ver + ".mod":  string(gomod),
		ver + ".info": fmt.Sprintf(`{"Version":%q,"Time":%q}`, ver, committed.UTC().Format(time.RFC3339)),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	upstream := strings.TrimSpace(run(t, "", nil, "go", "env", "GOPROXY"))
	// -mod=mod as a user outside any module has it; the module is not in
	// the checksum database (GONOSUMDB), its dependencies are checked.
	ienv := append(env, "GOPROXY=file://"+filepath.Join(tmp, "proxy")+","+upstream, "GONOSUMDB="+mod, "GOFLAGS=-mod=mod")
	start = time.Now()
	run(t, tmp, ienv, "go", "install", mod+"/cmd/gather@"+ver)
	t.Logf("go install %s/cmd/gather@%s: %s", mod, ver, time.Since(start).Round(time.Second))
	out = run(t, "", nil, filepath.Join(tmp, "bin", "gather"), "version")
	for _, want := range []string{"gather " + ver + "\n", "module    " + mod + "\n", "revision  unknown", "go        " + runtime.Version() + " "} {
		if !strings.Contains(out, want) {
			t.Errorf("installed: gather version lacks %q:\n%s", want, out)
		}
	}
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}
