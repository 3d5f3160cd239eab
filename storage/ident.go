package storage

import (
	"fmt"
	"regexp"
	"strings"
)

var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// checkIdent refuses any table or column name that is not a plain
// identifier: names from a config end up inside SQL text.
func checkIdent(name string) error {
	if !identRe.MatchString(name) {
		return fmt.Errorf("%q is not a plain identifier ([a-z_][a-z0-9_]*)", name)
	}
	return nil
}

// quote quotes a checked identifier. Identifiers are always quoted so that
// names such as "order" or "group" work as columns.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}
