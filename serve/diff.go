package serve

import (
	"strings"
)

// runChangesShown is how many of a run's changes its page lists.
const runChangesShown = 100

// keyText is a row's key as a change shows it: its values joined by " · ",
// or "the page's row" for an item keyed by _url alone.
func keyText(key []any) string {
	if len(key) == 0 {
		return "the page's row"
	}
	parts := make([]string, len(key))
	for i, v := range key {
		parts[i] = cell(v)
	}
	return strings.Join(parts, " · ")
}
