package config

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// IDOfLine reads one line of an ids file: blank lines and '#' comments are
// skipped, and so is anything after the id on its line. A byte order mark
// (which editors on Windows put at the start of a file) is no part of an
// id.
func IDOfLine(line string) (string, bool) {
	line = strings.TrimPrefix(line, "\uFEFF")
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", false
	}
	return fields[0], true
}

// hasID reads ids_file up to its first id, so that a file that cannot be
// read, or holds none, is a config error before any request is sent.
func hasID(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("cannot read %s: %v", path, unwrapPathError(err))
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if _, ok := IDOfLine(line); ok {
			return true, nil
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("cannot read %s: %v", path, err)
		}
	}
}
