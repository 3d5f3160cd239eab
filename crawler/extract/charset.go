package extract

import (
	"bytes"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
)

// Every body is decoded to UTF-8 before it is parsed, so that every value
// stored is valid UTF-8 whatever the page was written in. The encoding is
// found the way a browser finds it (the WHATWG encoding sniffing order):
// a byte order mark, then the Content-Type header's charset, then for HTML
// a <meta charset> or http-equiv in the first 1024 bytes, for XML the XML
// declaration; then UTF-8 when the bytes are valid UTF-8, else
// windows-1252. JSON is UTF-8 unless a BOM or the header says otherwise
// (RFC 8259).

// decodeBody returns body as UTF-8, and a warning when bytes invalid in the
// page's encoding were replaced with U+FFFD. When the body is already
// valid UTF-8 without a BOM, it is returned as it is.
func decodeBody(body []byte, contentType string) ([]byte, string) {
	enc, name := encodingOf(body, contentType)
	body = trimBOM(body, name)
	if name == "utf-8" {
		if utf8.Valid(body) {
			return body, ""
		}
		return bytes.ToValidUTF8(body, []byte("\uFFFD")), "the body is not valid UTF-8: invalid bytes were replaced with U+FFFD"
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return bytes.ToValidUTF8(body, []byte("\uFFFD")), fmt.Sprintf("the body could not be decoded as %s (%v): stored as UTF-8 with invalid bytes replaced", name, err)
	}
	// A legitimate U+FFFD can only come from a Unicode encoding; in the
	// others it marks bytes the encoding has no character for.
	if n := bytes.Count(out, []byte("\uFFFD")); n > 0 && !strings.HasPrefix(name, "utf-16") {
		return out, fmt.Sprintf("%d byte sequences invalid in %s were replaced with U+FFFD", n, name)
	}
	if !utf8.Valid(out) { // decoders emit valid UTF-8; this guards the promise
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	}
	return out, ""
}

// encodingOf finds body's encoding and its WHATWG name.
func encodingOf(body []byte, contentType string) (encoding.Encoding, string) {
	media, params, _ := mime.ParseMediaType(contentType)
	switch {
	case isJSONType(media), isXMLType(media):
		if e, name, ok := bomEncoding(body); ok {
			return e, name
		}
		if label := params["charset"]; label != "" {
			if e, name := charset.Lookup(label); e != nil {
				return e, name
			}
		}
		if isXMLType(media) {
			if m := xmlDeclEncoding.FindSubmatch(body[:min(len(body), 1024)]); m != nil {
				if e, name := charset.Lookup(string(m[1])); e != nil {
					return e, name
				}
			}
		}
		return unicode.UTF8, "utf-8"
	}
	e, name, _ := charset.DetermineEncoding(body, contentType)
	return e, name
}

var xmlDeclEncoding = regexp.MustCompile(`^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)

func bomEncoding(body []byte) (encoding.Encoding, string, bool) {
	for _, b := range boms {
		if bytes.HasPrefix(body, b.bom) {
			e, name := charset.Lookup(b.name)
			return e, name, true
		}
	}
	return nil, "", false
}

var boms = []struct {
	bom  []byte
	name string
}{
	{[]byte{0xEF, 0xBB, 0xBF}, "utf-8"},
	{[]byte{0xFE, 0xFF}, "utf-16be"},
	{[]byte{0xFF, 0xFE}, "utf-16le"},
}

// trimBOM drops the byte order mark of the encoding found, which is no
// part of the text.
func trimBOM(body []byte, name string) []byte {
	for _, b := range boms {
		if b.name == name {
			return bytes.TrimPrefix(body, b.bom)
		}
	}
	return body
}

// isJSONType reports whether a media type (lower case, no parameters) is
// JSON.
func isJSONType(media string) bool {
	return media == "application/json" || media == "text/json" || strings.HasSuffix(media, "+json")
}

// isXMLType reports whether a media type is XML, XHTML included.
func isXMLType(media string) bool {
	return media == "application/xml" || media == "text/xml" || strings.HasSuffix(media, "+xml")
}

// isHTMLType reports whether a media type is one the items can read as
// HTML.
func isHTMLType(media string) bool {
	return media == "text/html" || media == "application/xhtml+xml"
}
