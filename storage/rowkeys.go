package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A stored page remembers the keys of the rows it produced, per table, in
// gather_pages.row_keys. A re-fetch deletes exactly those rows through the
// primary key, which spares every item table a secondary index on _url:
// that index cost a quarter of the crawl's throughput (measured with
// BenchmarkCrawlSideBySide), for lookups that only re-fetches need.

// encodeRowKeys lists, per table, the key values (without _url) of rows.
func encodeRowKeys(tables map[string]Table, items []ItemRows) []byte {
	size := 0
	for _, it := range items {
		size += 16 + 24*len(it.Rows)
	}
	b := make([]byte, 0, size)
	for _, it := range items {
		if len(it.Rows) == 0 {
			continue
		}
		pos := keyPositions(tables[it.Table])
		b = appendString(b, it.Table)
		b = binary.AppendUvarint(b, uint64(len(it.Rows)))
		for _, r := range it.Rows {
			b = binary.AppendUvarint(b, uint64(len(pos)))
			for _, p := range pos {
				if p < 0 {
					b = appendValue(b, int64(r.Index))
				} else {
					b = appendValue(b, r.Values[p])
				}
			}
		}
	}
	return b
}

var errBadRowKeys = errors.New("malformed row_keys")

// decodeRowKeys reads what encodeRowKeys wrote.
func decodeRowKeys(b []byte) (map[string][][]any, error) {
	out := map[string][][]any{}
	for len(b) > 0 {
		table, rest, err := readString(b)
		if err != nil {
			return nil, err
		}
		n, k := binary.Uvarint(rest)
		if k <= 0 {
			return nil, errBadRowKeys
		}
		b = rest[k:]
		rows := make([][]any, 0, n)
		for i := uint64(0); i < n; i++ {
			parts, k := binary.Uvarint(b)
			if k <= 0 {
				return nil, errBadRowKeys
			}
			b = b[k:]
			key := make([]any, parts)
			for j := range key {
				if key[j], b, err = readValue(b); err != nil {
					return nil, err
				}
			}
			rows = append(rows, key)
		}
		out[table] = rows
	}
	return out, nil
}

func readString(b []byte) (string, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return "", nil, errBadRowKeys
	}
	return string(b[k : k+int(n)]), b[k+int(n):], nil
}

// readValue reads one value written by appendValue.
func readValue(b []byte) (any, []byte, error) {
	if len(b) == 0 {
		return nil, nil, errBadRowKeys
	}
	tag, b := b[0], b[1:]
	switch tag {
	case 'n':
		return nil, b, nil
	case 's', '?':
		s, rest, err := readString(b)
		return s, rest, err
	case 'b':
		s, rest, err := readString(b)
		return []byte(s), rest, err
	case 'i':
		v, k := binary.Varint(b)
		if k <= 0 {
			return nil, nil, errBadRowKeys
		}
		return v, b[k:], nil
	case 'f':
		if len(b) < 8 {
			return nil, nil, errBadRowKeys
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), b[8:], nil
	case 'T':
		return true, b, nil
	case 'F':
		return false, b, nil
	}
	return nil, nil, fmt.Errorf("%w: type %q", errBadRowKeys, tag)
}
