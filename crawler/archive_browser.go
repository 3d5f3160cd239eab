package crawler

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gather-crawler/gather/crawler/archive"
	"github.com/gather-crawler/gather/crawler/browser"
	"github.com/gather-crawler/gather/storage"
)

// browserTap is what fetch.BrowserTransport hands each rendered page to (nil:
// no archive). A browser page's bytes do not pass the HTTP transport the
// archive taps, so they are archived here, from what Chromium received.
func (a *archiver) browserTap() func(*http.Request, *browser.Page) {
	if a == nil {
		return nil
	}
	return a.rendered
}

// rendered archives a page a browser rendered: its document response as
// Chromium received it, and the DOM the page's items were extracted from
// in a resource record beside it. The page's index row points at both, so
// that a re-extraction reads the DOM without a browser and without a
// request. A page whose document Chromium no longer held is not archived:
// a change of items fetches it again.
func (a *archiver) rendered(req *http.Request, p *browser.Page) {
	d := p.Document
	if d == nil {
		return
	}
	h := d.Header.Clone()
	ex := &archive.Exchange{Method: http.MethodGet, URL: d.URL, RequestHeader: d.RequestHeader,
		Proto: "HTTP/1.1", StatusCode: d.Status, Status: strconv.Itoa(d.Status) + " " + cmpOr(d.StatusText, http.StatusText(d.Status)),
		Header: h, Body: d.Body, RemoteIP: d.RemoteIP, Rendered: p.HTML}
	if ex.URL == "" {
		ex.URL = req.URL.String()
	}
	// A WARC response is an HTTP/1.x message whatever the wire spoke (h2,
	// QUIC), with the body Chromium decoded.
	if strings.EqualFold(d.Protocol, "http/1.0") {
		ex.Proto = "HTTP/1.0"
	}
	if te := h.Values("Transfer-Encoding"); len(te) > 0 {
		ex.TransferEncoding = te
		h.Del("Transfer-Encoding")
	}
	if ce := strings.TrimSpace(h.Get("Content-Encoding")); ce != "" && !strings.EqualFold(ce, "identity") {
		ex.ContentDecoded = true
	}
	if ex.RequestHeader == nil {
		ex.RequestHeader = http.Header{}
	}
	wr, err := a.w.Write(ex)
	if err != nil {
		a.fail(err) // the writer's errors say "archive:"
		return
	}
	ref := storage.ArchiveRef{File: wr.Response.File, Offset: wr.Response.Offset, Length: wr.Response.Length,
		RenderedOffset: wr.Rendered.Offset, RenderedLength: wr.Rendered.Length}
	a.mu.Lock()
	a.latest[req.URL.String()] = ref
	a.mu.Unlock()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// archivedContent is what an archived page's rows are extracted from: the
// response's body and header, or, for a page a browser rendered, the DOM
// in the resource record beside the response — what the crawl's items
// saw — with the header the crawl gave it (fetch.BrowserTransport).
func archivedContent(rd *archive.Reader, ref storage.ArchiveRef, rec *archive.Record) ([]byte, http.Header, error) {
	if ref.RenderedLength == 0 {
		body, err := rec.ContentBody()
		return body, rec.Header, err
	}
	dom, err := rd.Read(archive.Location{File: ref.File, Offset: ref.RenderedOffset, Length: ref.RenderedLength})
	if err != nil {
		return nil, nil, err
	}
	if dom.Type != "resource" {
		return nil, nil, fmt.Errorf("%s@%d: a %s record, not a rendered DOM", ref.File, ref.RenderedOffset, dom.Type)
	}
	h := rec.Header.Clone()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Transfer-Encoding"} {
		h.Del(k)
	}
	for k := range h {
		if strings.HasPrefix(k, archive.OrigHeaderPrefix) {
			h.Del(k)
		}
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	return dom.Body, h, nil
}
