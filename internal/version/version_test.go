package version

import (
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestFromBuildInfo(t *testing.T) {
	checkout := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/gather-crawler/gather", Version: "v0.0.0-20261201074649-55b5674e9b47+dirty"},
		Deps: []*debug.Module{{Path: "github.com/gocolly/colly/v2", Version: "v2.3.0"}},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "55b5674e9b47ce61cc7f9794d68eebb89074da87"},
			{Key: "vcs.time", Value: "2026-12-01T07:46:49Z"}, {Key: "vcs.modified", Value: "true"}}}
	i := FromBuildInfo(checkout)
	if i.Revision != "55b5674e9b47ce61cc7f9794d68eebb89074da87" || !i.Modified || !i.Time.Equal(time.Date(2026, 12, 1, 7, 46, 49, 0, time.UTC)) {
		t.Errorf("vcs: %+v", i)
	}
	if got := i.UserAgent(); got != "gather/0.0.0-20261201074649-55b5674e9b47+dirty" {
		t.Errorf("UserAgent = %q", got)
	}
	s := i.String()
	for _, want := range []string{"gather v0.0.0-20261201074649-55b5674e9b47+dirty\n", "revision  55b5674e9b47ce61cc7f9794d68eebb89074da87 (with uncommitted changes)\n",
		"committed 2026-12-01T07:46:49Z\n", "go        go1.26.8 ", "colly     v2.3.0\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}

	installed := FromBuildInfo(&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/gather-crawler/gather", Version: "v1.4.0"}})
	if installed.UserAgent() != "gather/1.4.0" || !strings.Contains(installed.String(), "revision  unknown") {
		t.Errorf("installed: %q\n%s", installed.UserAgent(), installed.String())
	}
	// A build with no version and no VCS (go run, -buildvcs=false) says
	// so rather than invent one.
	bare := FromBuildInfo(&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/gather-crawler/gather", Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}})
	if got := bare.Short(); got != "devel-0123456789ab-dirty" {
		t.Errorf("Short = %q", got)
	}
	if got := FromBuildInfo(&debug.BuildInfo{}).UserAgent(); got != "gather/devel" {
		t.Errorf("empty: %q", got)
	}
}
