package fetch

import "net/http"

// FetchedByHeader carries, on the response the engine hands the run, how
// the chain fetched it (one of the Fetched values): the engine gives its
// callback the response alone.
const FetchedByHeader = "Gather-Fetched-By"

// Values of FetchedByHeader, and of gather_pages.fetched_by.
const (
	FetchedHTTP       = "http"
	FetchedBrowser    = "browser"
	FetchedHTTPCookie = "http+cookie"
)

// SentContentTypeHeader carries the Content-Type as the server sent it
// past colly (crawler/engine.go's charsetVeil, which sits above the
// chain); the chain only drops a server's own header of that name.
const SentContentTypeHeader = "Gather-Content-Type"

// stripInternal drops from a response's header what gather's own layers
// carry there, so that a server cannot speak for them.
func stripInternal(h http.Header) {
	h.Del(detectedHeader)
	h.Del(FetchedByHeader)
	h.Del(SentContentTypeHeader)
}
