//go:build linux

package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// TreeMemory is the memory of process pid and all its descendants (for
// gather, its Chromium and Chromium's helpers), in MB: the sum of their
// resident sets, which counts pages they share once per process, and of
// their proportional sets (PSS), which splits shared pages among them and
// is what the tree costs the machine.
func TreeMemory(pid int) (rssMB, pssMB float64) {
	entries, _ := filepath.Glob("/proc/[0-9]*/stat")
	parent := map[int]int{}
	for _, e := range entries {
		b, err := os.ReadFile(e)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 2 {
			continue
		}
		p, _ := strconv.Atoi(filepath.Base(filepath.Dir(e)))
		parent[p], _ = strconv.Atoi(f[1])
	}
	for p := range parent {
		in := p == pid
		for q := parent[p]; !in && q > 1; q = parent[q] {
			in = q == pid
		}
		if !in {
			continue
		}
		rss, pss := smapsRollup(p)
		rssMB += rss
		pssMB += pss
	}
	return rssMB, pssMB
}

// smapsRollup reads a process's Rss and Pss, in MB.
func smapsRollup(pid int) (rss, pss float64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || (name != "Rss" && name != "Pss") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			continue
		}
		if name == "Rss" {
			rss = kb / 1024
		} else {
			pss = kb / 1024
		}
	}
	return rss, pss
}
