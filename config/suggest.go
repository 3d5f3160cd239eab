package config

import (
	"reflect"
	"strings"
)

// suggest returns " (did you mean X?)" when an unknown key is a likely typo
// of a known one at the same level.
func suggest(key string) string {
	parts := strings.Split(key, ".")
	t := reflect.TypeOf(Config{})
	for _, p := range parts[:len(parts)-1] {
		if t.Kind() == reflect.Map {
			t = t.Elem()
			continue
		}
		if t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		next, ok := fieldByTag(t, p)
		if !ok {
			return ""
		}
		t = next
	}
	if t.Kind() == reflect.Map || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	last := parts[len(parts)-1]
	if alt, ok := likelyMeant[last]; ok {
		if _, has := fieldByTag(t, alt); has {
			return " (did you mean " + alt + "?)"
		}
	}
	best, bestD := "", 3
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		if d := editDistance(last, tag); d < bestD {
			best, bestD = tag, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// likelyMeant are keys other scrapers (or plain English) use for one of
// gather's, too far from it for a typo to be suggested.
var likelyMeant = map[string]string{
	"selector": "css", "select": "css", "query": "css", "css_selector": "css",
	"path": "json", "jsonpath": "json", "json_path": "json",
	"attribute": "attr", "pattern": "regex", "re": "regex", "regexp": "regex",
	"multiple": "all", "many": "all", "list": "all",
	"processors": "process", "processor": "process", "pipeline": "process",
	"depth": "max_depth", "domains": "allowed_domains", "concurrent_requests": "parallelism",
	"links": "follow", "start_urls": "start", "urls": "start",
}

// yamlHint adds to a YAML error what most often causes it in a config: a
// regex written in a double-quoted string, where a backslash starts an
// escape.
func yamlHint(err error) string {
	if strings.Contains(err.Error(), "unknown escape character") {
		return ` — in a double-quoted YAML string a backslash starts an escape; write regexes in single quotes ('\d+'), where a backslash is itself, or double it ("\\d+")`
	}
	return ""
}

func fieldByTag(t reflect.Type, tag string) (reflect.Type, bool) {
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("mapstructure") == tag {
			return t.Field(i).Type, true
		}
	}
	return nil, false
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
