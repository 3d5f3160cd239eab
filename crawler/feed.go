package crawler

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/gather-crawler/gather/config"
)

// feed yields the start URLs one at a time: the literal urls, then the
// template filled with each id, then with each line of ids_file, read as it
// goes so that a million ids never sit in memory.
type feed struct {
	start config.Start
	stage int
	i     int
	file  *os.File
	sc    *bufio.Scanner
	line  int
}

func newFeed(start config.Start) *feed { return &feed{start: start} }

// next returns the next start URL, or "" when there are no more. A line of
// ids_file that cannot be read is an error.
func (f *feed) next() (string, error) {
	for {
		switch f.stage {
		case 0:
			if f.i < len(f.start.URLs) {
				f.i++
				return f.start.URLs[f.i-1], nil
			}
			f.stage, f.i = 1, 0
		case 1:
			if f.i < len(f.start.IDs) {
				f.i++
				return fillTemplate(f.start.URLTemplate, f.start.IDs[f.i-1]), nil
			}
			f.stage = 2
		case 2:
			if f.start.IDsFile == "" {
				f.stage = 3
				continue
			}
			if f.sc == nil {
				file, err := os.Open(f.start.IDsFile)
				if err != nil {
					return "", fmt.Errorf("crawl.start.ids_file: %w", err)
				}
				f.file = file
				f.sc = bufio.NewScanner(file)
				f.sc.Buffer(make([]byte, 64<<10), 1<<20)
			}
			for f.sc.Scan() {
				f.line++
				if id, ok := idOfLine(f.sc.Text()); ok {
					return fillTemplate(f.start.URLTemplate, id), nil
				}
			}
			if err := f.sc.Err(); err != nil {
				return "", fmt.Errorf("crawl.start.ids_file %s line %d: %w", f.start.IDsFile, f.line+1, err)
			}
			f.close()
			f.stage = 3
		default:
			return "", nil
		}
	}
}

func (f *feed) close() {
	if f.file != nil {
		f.file.Close()
		f.file = nil
	}
}

// idOfLine reads one line of an ids file: blank lines and '#' comments are
// skipped, and so is anything after the id on its line.
func idOfLine(line string) (string, bool) {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", false
	}
	return fields[0], true
}

func fillTemplate(tmpl, id string) string {
	return strings.ReplaceAll(tmpl, "{id}", url.PathEscape(id))
}

// countStart counts the start URLs without holding them, for the progress
// total. It reads ids_file once.
func countStart(ctx context.Context, start config.Start) (int64, error) {
	n := int64(len(start.URLs) + len(start.IDs))
	if start.IDsFile == "" {
		return n, nil
	}
	f, err := os.Open(start.IDsFile)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	for {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			if _, ok := idOfLine(string(line)); ok {
				n++
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil && err != bufio.ErrBufferFull {
			return 0, err
		}
	}
}
