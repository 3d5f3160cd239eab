// Package version tells which gather this binary is, from what the Go
// toolchain recorded in it (runtime/debug.ReadBuildInfo): the module
// version that `go install …@vX.Y.Z` fetched, or for a build in a
// checkout the pseudo-version, VCS revision, commit time and whether the
// tree had uncommitted changes. Nothing is set by hand or by -ldflags, so
// what it says is what was built.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Info is what the build recorded.
type Info struct {
	// Module is the main module's path.
	Module string
	// Version is the module version: "v1.2.3" for an installed release,
	// a pseudo-version such as "v0.0.0-20261205193000-abcdef123456+dirty"
	// for a checkout build, or "(devel)" when the toolchain knew none.
	Version string
	// Revision, Time and Modified come from the VCS of a checkout build;
	// empty, zero and false for a module installed by version.
	Revision string
	Time     time.Time
	Modified bool
	// Go is the toolchain that built the binary.
	Go string
	// Deps maps each dependency's module path to its version.
	Deps map[string]string
}

var (
	once sync.Once
	info Info
)

// Get returns this binary's build information (read once).
func Get() Info {
	once.Do(func() {
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			info = Info{Version: "(devel)", Go: runtime.Version()}
			return
		}
		info = FromBuildInfo(bi)
	})
	return info
}

// FromBuildInfo reads an Info out of bi.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	i := Info{Module: bi.Main.Path, Version: bi.Main.Version, Go: bi.GoVersion, Deps: map[string]string{}}
	if i.Version == "" {
		i.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.time":
			i.Time, _ = time.Parse(time.RFC3339, s.Value)
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	for _, d := range bi.Deps {
		v := d.Version
		if d.Replace != nil {
			v = d.Replace.Version
		}
		i.Deps[d.Path] = v
	}
	return i
}

// Short is the version in a word: the module version when the build has
// one, else "devel-" and the revision's first 12 hex digits (and
// "-dirty" for uncommitted changes), else "devel". The leading "v" is
// dropped, as User-Agent products are written.
func (i Info) Short() string {
	if i.Version != "" && i.Version != "(devel)" {
		return strings.TrimPrefix(i.Version, "v")
	}
	if i.Revision == "" {
		return "devel"
	}
	s := "devel-" + i.Revision[:min(12, len(i.Revision))]
	if i.Modified {
		s += "-dirty"
	}
	return s
}

// UserAgent is the default User-Agent: "gather/" and Short.
func (i Info) UserAgent() string { return "gather/" + i.Short() }

// String is what `gather version` prints: the version on the first line,
// then one line each for what the build recorded.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gather %s\n", i.Version)
	if i.Module != "" {
		fmt.Fprintf(&b, "module    %s\n", i.Module)
	}
	if i.Revision != "" {
		rev := i.Revision
		if i.Modified {
			rev += " (with uncommitted changes)"
		}
		fmt.Fprintf(&b, "revision  %s\n", rev)
		if !i.Time.IsZero() {
			fmt.Fprintf(&b, "committed %s\n", i.Time.UTC().Format(time.RFC3339))
		}
	} else {
		fmt.Fprintf(&b, "revision  unknown (not built in a checkout)\n")
	}
	fmt.Fprintf(&b, "go        %s %s/%s\n", i.Go, runtime.GOOS, runtime.GOARCH)
	if v, ok := i.Deps["github.com/gocolly/colly/v2"]; ok {
		fmt.Fprintf(&b, "colly     %s\n", v)
	}
	return b.String()
}
