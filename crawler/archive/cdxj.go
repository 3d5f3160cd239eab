package archive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// CDXJ writes a CDXJ index of the WARC file or directory at path to w: one
// line per record a replay tool looks up — "urlkey timestamp {json}",
// sorted — in the form pywb and webrecorder's warcio.js write (same
// records, same SURT urlkey, same fields: url, mime, status, digest,
// length, offset, filename). It returns the number of lines and every
// unreadable part it skipped (as *CorruptError); err is set only when w
// fails or path cannot be read at all.
func CDXJ(w io.Writer, path string) (lines int, skipped []error, err error) {
	var out []string
	for e, serr := range ScanAll(path) {
		if serr != nil {
			skipped = append(skipped, serr)
			continue
		}
		line, ok := cdxjLine(e)
		if ok {
			out = append(out, line)
		}
	}
	if len(out) == 0 && len(skipped) == 1 {
		if _, corrupt := skipped[0].(*CorruptError); !corrupt {
			return 0, nil, skipped[0]
		}
	}
	sort.Strings(out)
	for _, l := range out {
		if _, err := io.WriteString(w, l); err != nil {
			return 0, skipped, fmt.Errorf("archive: cdxj: %w", err)
		}
	}
	return len(out), skipped, nil
}

// cdxjLine indexes what warcio.js indexes: every record but requests,
// warcinfo, and metadata or resource records of WARC fields.
func cdxjLine(e Entry) (string, bool) {
	r := e.Record
	ct := strings.ToLower(r.ContentType)
	switch r.Type {
	case "request", "warcinfo":
		return "", false
	case "metadata", "resource":
		if strings.HasPrefix(ct, "application/warc-fields") {
			return "", false
		}
	}
	type entry struct {
		URL      string `json:"url"`
		Mime     string `json:"mime,omitempty"`
		Status   string `json:"status,omitempty"`
		Digest   string `json:"digest,omitempty"`
		Length   string `json:"length"`
		Offset   string `json:"offset"`
		Filename string `json:"filename"`
	}
	v := entry{
		URL:      r.URL,
		Length:   strconv.FormatInt(e.Location.Length, 10),
		Offset:   strconv.FormatInt(e.Location.Offset, 10),
		Filename: e.Location.File,
	}
	switch r.Type {
	case "response":
		v.Mime = strings.TrimSpace(strings.SplitN(r.Header.Get("Content-Type"), ";", 2)[0])
		v.Status = strconv.Itoa(r.StatusCode)
	case "revisit":
		v.Mime = "warc/revisit"
		v.Status = strconv.Itoa(r.StatusCode)
	default:
		v.Mime = r.ContentType
	}
	if _, d, ok := strings.Cut(r.PayloadDigest, ":"); ok {
		v.Digest = d
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", false
	}
	ts := r.Date.UTC().Format("20060102150405")
	return SURT(r.URL) + " " + ts + " " + b.String(), true
}

var wwwPrefix = regexp.MustCompile(`^(https?://)www\d*\.`)

// SURT is the sort-friendly form of an http(s) URL that CDX indexes are
// keyed by — host labels reversed and joined by commas, then ")", the
// path and the sorted query, lower case, "www." dropped — computed as
// webrecorder's warcio.js computes it. Other URLs are returned unchanged.
func SURT(raw string) string {
	if !strings.HasPrefix(raw, "http:") && !strings.HasPrefix(raw, "https:") {
		return raw
	}
	s := strings.ToLower(wwwPrefix.ReplaceAllString(raw, "$1"))
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return raw
	}
	labels := strings.Split(u.Hostname(), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	out := strings.Join(labels, ",")
	if p := u.Port(); p != "" && !(u.Scheme == "http" && p == "80") && !(u.Scheme == "https" && p == "443") {
		out += ":" + p
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	out += ")" + path
	if u.RawQuery != "" {
		args := strings.Split(u.RawQuery, "&")
		sort.Strings(args)
		out += "?" + strings.Join(args, "&")
	}
	return out
}
