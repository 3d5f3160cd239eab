package extract

import (
	"bytes"
	"mime"
	"net/http"
	"strings"

	"github.com/gather-crawler/gather/config"
)

// accept decides which responses are extracted, by media type.
type accept struct {
	// patterns are crawl.content_types (type/subtype or type/*); empty
	// means the default.
	patterns []string
	// readsJSON: some item reads JSON, so a JSON response is a page too.
	readsJSON bool
}

func newAccept(cfg *config.Config, items []*item) accept {
	a := accept{patterns: cfg.Crawl.ContentTypes}
	for _, it := range items {
		a.readsJSON = a.readsJSON || it.needJSON
	}
	return a
}

// Accepts reports whether a response with this Content-Type (and body, to
// sniff when the header is missing) is extracted, and if not why: the
// page is then skipped, neither extracted nor followed. Stylesheets,
// images, SVG and XML reached by following links would otherwise become
// rows of nothing.
func (e *Extractor) Accepts(contentType string, body []byte) (bool, string) {
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil || media == "" {
		media, _, _ = mime.ParseMediaType(http.DetectContentType(body))
	}
	a := e.accept
	if len(a.patterns) > 0 {
		for _, p := range a.patterns {
			if strings.EqualFold(p, media) || (strings.HasSuffix(p, "/*") && strings.HasPrefix(media, strings.ToLower(strings.TrimSuffix(p, "*")))) {
				return true, ""
			}
		}
		return false, "content type " + media + " is not in crawl.content_types: not extracted"
	}
	switch {
	case isHTMLType(media):
		return true, ""
	case a.readsJSON && isJSONType(media):
		return true, ""
	case a.readsJSON && media == "text/plain" && looksJSON(body):
		// JSON APIs served as text/plain are common enough to read.
		return true, ""
	}
	if a.readsJSON {
		return false, "content type " + media + " is neither HTML nor JSON: not extracted (crawl.content_types)"
	}
	return false, "content type " + media + " is not HTML: not extracted (crawl.content_types)"
}

func looksJSON(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n\ufeff")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}
