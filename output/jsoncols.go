package output

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"strings"
)

// columnTyper is what *sql.Rows offers beyond Rows: the declared type of
// each result column that is a plain column of a table.
type columnTyper interface {
	ColumnTypes() ([]*sql.ColumnType, error)
}

// jsonColumns reports, per result column, whether it is declared to hold
// JSON (gather declares lists and json fields "JSON TEXT"): the JSON
// formats then print its values as JSON arrays and objects. nil when no
// column is, or the rows cannot say.
func jsonColumns(rows Rows, n int) []bool {
	ct, ok := rows.(columnTyper)
	if !ok {
		return nil
	}
	types, err := ct.ColumnTypes()
	if err != nil || len(types) != n {
		return nil
	}
	var raw []bool
	for i, t := range types {
		if strings.Contains(strings.ToUpper(t.DatabaseTypeName()), "JSON") {
			if raw == nil {
				raw = make([]bool, n)
			}
			raw[i] = true
		}
	}
	return raw
}

// rawJSON returns v's text, compacted, when it is valid JSON; anything
// else (NULL, a number, text that is not JSON) is written as usual.
func rawJSON(v any) ([]byte, bool) {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		return nil, false
	}
	if !json.Valid(b) {
		return nil, false
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, false
	}
	return out.Bytes(), true
}
