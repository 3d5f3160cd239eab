// Package output writes rows as an aligned table, CSV, a JSON array or JSON
// lines, streaming: a million-row result is never held in memory.
package output

import (
	"bufio"
	"database/sql"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Formats.
const (
	Table = "table"
	CSV   = "csv"
	JSON  = "json"
	JSONL = "jsonl"
)

// Check returns an error unless format is one of the formats.
func Check(format string) error {
	switch format {
	case Table, CSV, JSON, JSONL:
		return nil
	}
	return fmt.Errorf("unknown format %q (want table, csv, json or jsonl)", format)
}

// Rows is what Write reads: *sql.Rows satisfies it.
type Rows interface {
	Columns() ([]string, error)
	Next() bool
	Scan(dest ...any) error
	Err() error
}

var _ Rows = (*sql.Rows)(nil)

// tableSample is how many rows the table format reads before fixing its
// column widths; later rows stream with those widths.
const tableSample = 1000

// Write streams rows to w in format and returns the number of rows.
func Write(w io.Writer, format string, rows Rows) (int64, error) {
	if err := Check(format); err != nil {
		return 0, err
	}
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var f writer
	switch format {
	case Table:
		f = &tableWriter{w: bw, cols: cols}
	case CSV:
		f = &csvWriter{w: csv.NewWriter(bw), cols: cols}
	case JSON:
		f = &jsonWriter{w: bw, cols: cols, array: true, raw: jsonColumns(rows, len(cols))}
	case JSONL:
		f = &jsonWriter{w: bw, cols: cols, raw: jsonColumns(rows, len(cols))}
	}
	if err := f.begin(); err != nil {
		return 0, err
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if err := f.row(vals); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		f.end()
		bw.Flush()
		return n, err
	}
	if err := f.end(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

type writer interface {
	begin() error
	row(vals []any) error
	end() error
}

// text renders a value for the table and CSV formats: NULL as empty in CSV
// (and "NULL" in tables), blobs as x'hex' like SQLite's own literals.
func text(v any, null string) string {
	switch x := v.(type) {
	case nil:
		return null
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	case []byte:
		return "x'" + hex.EncodeToString(x) + "'"
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return fmt.Sprint(v)
}

// jsonValue keeps numbers numbers and NULL null; blobs become base64
// strings (JSON has no bytes).
func jsonValue(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return v
}

type csvWriter struct {
	w    *csv.Writer
	cols []string
	rec  []string
}

func (c *csvWriter) begin() error {
	c.w.UseCRLF = true // RFC 4180
	c.rec = make([]string, len(c.cols))
	return c.w.Write(c.cols)
}

func (c *csvWriter) row(vals []any) error {
	for i, v := range vals {
		c.rec[i] = text(v, "")
	}
	return c.w.Write(c.rec)
}

func (c *csvWriter) end() error {
	c.w.Flush()
	return c.w.Error()
}

type jsonWriter struct {
	w     *bufio.Writer
	cols  []string
	keys  [][]byte
	array bool
	n     int
	// raw marks the columns declared JSON: their text is written as the
	// JSON value it holds (when it is valid JSON), not as a string.
	raw []bool
}

func (j *jsonWriter) begin() error {
	j.keys = make([][]byte, len(j.cols))
	for i, c := range j.cols {
		b, _ := json.Marshal(c)
		j.keys[i] = b
	}
	if j.array {
		_, err := j.w.WriteString("[")
		return err
	}
	return nil
}

// row writes an object with the columns in query order (a map would sort
// them).
func (j *jsonWriter) row(vals []any) error {
	if j.array && j.n > 0 {
		j.w.WriteString(",")
	}
	if j.array {
		j.w.WriteString("\n")
	}
	j.n++
	j.w.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			j.w.WriteByte(',')
		}
		j.w.Write(j.keys[i])
		j.w.WriteByte(':')
		if j.raw != nil && j.raw[i] {
			if b, ok := rawJSON(v); ok {
				j.w.Write(b)
				continue
			}
		}
		b, err := json.Marshal(jsonValue(v))
		if err != nil {
			return err
		}
		j.w.Write(b)
	}
	j.w.WriteByte('}')
	if !j.array {
		j.w.WriteByte('\n')
	}
	return nil
}

func (j *jsonWriter) end() error {
	if !j.array {
		return nil
	}
	if j.n > 0 {
		j.w.WriteString("\n")
	}
	_, err := j.w.WriteString("]\n")
	return err
}

// tableWriter aligns columns. It holds the first tableSample rows to size
// the columns, then streams; a later, wider value just pushes its line out.
type tableWriter struct {
	w       *bufio.Writer
	cols    []string
	widths  []int
	numeric []bool
	held    [][]string
	sized   bool
}

const maxCell = 60

var controlEscaper = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)

func cell(v any) string {
	s := text(v, "NULL")
	if strings.ContainsAny(s, "\n\r\t") {
		s = controlEscaper.Replace(s)
	}
	if len(s) > maxCell && utf8.RuneCountInString(s) > maxCell {
		r := []rune(s)
		s = string(r[:maxCell-1]) + "…"
	}
	return s
}

func (t *tableWriter) begin() error {
	t.widths = make([]int, len(t.cols))
	t.numeric = make([]bool, len(t.cols))
	for i, c := range t.cols {
		t.widths[i] = utf8.RuneCountInString(c)
	}
	return nil
}

func (t *tableWriter) row(vals []any) error {
	cells := make([]string, len(vals))
	for i, v := range vals {
		cells[i] = cell(v)
		switch v.(type) {
		case int64, float64:
			t.numeric[i] = true
		}
	}
	if !t.sized {
		t.held = append(t.held, cells)
		for i, c := range cells {
			t.widths[i] = max(t.widths[i], utf8.RuneCountInString(c))
		}
		if len(t.held) >= tableSample {
			return t.flushHeld()
		}
		return nil
	}
	return t.line(cells)
}

func (t *tableWriter) flushHeld() error {
	t.sized = true
	if err := t.line(t.cols); err != nil {
		return err
	}
	seps := make([]string, len(t.cols))
	for i, w := range t.widths {
		seps[i] = strings.Repeat("-", w)
	}
	if err := t.line(seps); err != nil {
		return err
	}
	for _, r := range t.held {
		if err := t.line(r); err != nil {
			return err
		}
	}
	t.held = nil
	return nil
}

func (t *tableWriter) line(cells []string) error {
	for i, c := range cells {
		pad := t.widths[i] - utf8.RuneCountInString(c)
		if i > 0 {
			t.w.WriteString("  ")
		}
		last := i == len(cells)-1
		if t.numeric[i] {
			writeSpaces(t.w, pad)
			t.w.WriteString(c)
		} else {
			t.w.WriteString(c)
			if !last {
				writeSpaces(t.w, pad)
			}
		}
	}
	_, err := t.w.WriteString("\n")
	return err
}

func (t *tableWriter) end() error {
	if !t.sized {
		if err := t.flushHeld(); err != nil {
			return err
		}
	}
	return nil
}

func writeSpaces(w *bufio.Writer, n int) {
	for ; n > 0; n-- {
		w.WriteByte(' ')
	}
}
