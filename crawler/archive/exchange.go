package archive

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Exchange is one fetch as it happened on the wire: the request as sent and
// the response as received. The writer turns it into a request record and a
// response record (and a resource record when Rendered is set).
type Exchange struct {
	// Method, URL and RequestHeader are the request as sent. Headers the
	// transport adds by itself (Host, Go's default User-Agent, the
	// Accept-Encoding it negotiates) are added by ExchangeFromResponse.
	Method        string
	URL           string
	RequestHeader http.Header
	RequestBody   []byte

	// Proto ("HTTP/1.1"), StatusCode and Status ("200 OK", as
	// http.Response.Status has it) form the status line.
	Proto      string
	StatusCode int
	Status     string
	// Header is the response's header as received.
	Header http.Header
	// TransferEncoding is what net/http took out of Header
	// (http.Response.TransferEncoding): the body below is de-chunked.
	TransferEncoding []string
	// Body is the body after transfer decoding.
	Body []byte
	// ContentDecoded says Body no longer has the Content-Encoding it was
	// sent with: Go's transport gunzipped it (http.Response.Uncompressed)
	// or the caller decoded it. OrigContentEncoding names that encoding
	// when Header no longer does (Go deletes the header when it decodes).
	ContentDecoded      bool
	OrigContentEncoding string
	// Truncated is set when Body is shorter than what the server sent
	// (a body size cap); it becomes WARC-Truncated ("length").
	Truncated string

	// Date is when the response arrived (WARC-Date); zero means now.
	Date time.Time
	// RemoteIP becomes WARC-IP-Address when set.
	RemoteIP string

	// Rendered is the DOM a browser rendered (fetch: browser), kept in a
	// resource record beside the response (see RenderedURIPrefix); nil for
	// none.
	Rendered []byte
}

// OrigHeaderPrefix prefixes a response header whose value the stored
// record no longer matches (Content-Encoding of a decoded body, the
// Transfer-Encoding of a de-chunked one, a Content-Length that is not the
// stored body's): the header is renamed so that a replay tool does not
// decode twice, and what the server said is still there to read.
const OrigHeaderPrefix = "X-Gather-Orig-"

// ExchangeFromResponse fills an Exchange from a finished net/http exchange
// and the body read from it (after transfer decoding; truncated says
// whether a size cap cut it). It records what went over the wire: the
// Host and User-Agent Go sends when the request has none, and, when Go's
// transport negotiated gzip and decoded it (resp.Uncompressed), the
// Accept-Encoding it sent and the Content-Encoding it removed.
func ExchangeFromResponse(resp *http.Response, body []byte, truncated bool) *Exchange {
	req := resp.Request
	ex := &Exchange{
		Proto:            resp.Proto,
		StatusCode:       resp.StatusCode,
		Status:           resp.Status,
		Header:           resp.Header.Clone(),
		TransferEncoding: append([]string(nil), resp.TransferEncoding...),
		Body:             body,
		Date:             time.Now(),
	}
	if req != nil {
		ex.Method = req.Method
		ex.URL = req.URL.String()
		ex.RequestHeader = req.Header.Clone()
		if ex.RequestHeader == nil {
			ex.RequestHeader = http.Header{}
		}
		if _, ok := ex.RequestHeader["User-Agent"]; !ok {
			// net/http's default, sent when the request sets none.
			ex.RequestHeader.Set("User-Agent", "Go-http-client/1.1")
		}
		if req.Host != "" && ex.RequestHeader.Get("Host") == "" {
			ex.RequestHeader.Set("Host", req.Host)
		}
	}
	if resp.Uncompressed {
		ex.ContentDecoded = true
		ex.OrigContentEncoding = "gzip" // the only encoding net/http negotiates
		if ex.RequestHeader != nil && ex.RequestHeader.Get("Accept-Encoding") == "" {
			ex.RequestHeader.Set("Accept-Encoding", "gzip")
		}
	}
	if truncated {
		ex.Truncated = "length"
	}
	return ex
}

// requestHead is the start of the request record's block: request line
// and headers (the body follows).
func (ex *Exchange) requestHead(u *url.URL) []byte {
	var b bytes.Buffer
	method := ex.Method
	if method == "" {
		method = http.MethodGet
	}
	proto := ex.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	fmt.Fprintf(&b, "%s %s %s\r\n", method, u.RequestURI(), proto)
	h := ex.RequestHeader.Clone()
	if h == nil {
		h = http.Header{}
	}
	// net/http writes Host first; keep that order for a faithful record.
	host := h.Get("Host")
	if host == "" {
		host = u.Host
	}
	h.Del("Host")
	fmt.Fprintf(&b, "Host: %s\r\n", host)
	if len(ex.RequestBody) > 0 && h.Get("Content-Length") == "" {
		h.Set("Content-Length", strconv.Itoa(len(ex.RequestBody)))
	}
	writeHeader(&b, h)
	b.WriteString("\r\n")
	return b.Bytes()
}

// responseHead is the start of the response record's block: the status
// line and headers (the body as stored follows). The headers are what was received, except those the
// stored body no longer matches, which are renamed with OrigHeaderPrefix:
// Transfer-Encoding (the body is de-chunked), Content-Encoding when the
// body was decoded, and a Content-Length that differs from the stored
// body's length; a Content-Length of the stored body is then set, so a
// replay tool reading the block serves exactly the stored bytes.
func (ex *Exchange) responseHead() []byte {
	var b bytes.Buffer
	proto := ex.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	status := ex.Status
	if status == "" {
		status = strconv.Itoa(ex.StatusCode) + " " + http.StatusText(ex.StatusCode)
	}
	fmt.Fprintf(&b, "%s %s\r\n", proto, status)
	h := ex.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	rename := func(name string) {
		if v, ok := h[name]; ok {
			h[OrigHeaderPrefix+name] = v
			delete(h, name)
		}
	}
	if te := ex.TransferEncoding; len(te) > 0 {
		h[OrigHeaderPrefix+"Transfer-Encoding"] = []string{strings.Join(te, ", ")}
	}
	rename("Transfer-Encoding")
	if ex.ContentDecoded {
		if h.Get("Content-Encoding") != "" {
			rename("Content-Encoding")
		} else if ex.OrigContentEncoding != "" {
			h.Set(OrigHeaderPrefix+"Content-Encoding", ex.OrigContentEncoding)
		}
	}
	length := strconv.Itoa(len(ex.Body))
	if cl := h.Get("Content-Length"); cl != length && bodyAllowed(ex.Method, ex.StatusCode) {
		rename("Content-Length")
		h.Set("Content-Length", length)
	}
	writeHeader(&b, h)
	b.WriteString("\r\n")
	return b.Bytes()
}

// bodyAllowed is false where a Content-Length describes a body that is
// never sent (HEAD, 1xx, 204, 304) and must be kept as the server said it.
func bodyAllowed(method string, status int) bool {
	return method != http.MethodHead && status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// writeHeader writes h sorted by name, as net/http does, keeping every
// value of a repeated header on its own line.
func writeHeader(b *bytes.Buffer, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			// A header value cannot hold a line break on the wire; one that
			// does came from the caller, and would corrupt the block.
			v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			fmt.Fprintf(b, "%s: %s\r\n", k, v)
		}
	}
}
