package browser

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// document is the top frame's last document response with its body, as
// Chromium holds it; nil when there is none or its body is gone (Chromium
// keeps bodies in a buffer of bounded size): the archive then has no
// response for the page, and a change of items fetches it again.
func (b *Browser) document(ctx context.Context, st *tabState) *Document {
	if !b.opts.Documents {
		return nil
	}
	st.mu.Lock()
	resp, id := st.doc, st.docID
	st.mu.Unlock()
	if resp == nil || id == "" {
		return nil
	}
	body, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id})
	if err != nil {
		b.log.Debug("the document's body is not available for the archive", "url", resp.URL, "error", err)
		return nil
	}
	d := &Document{URL: resp.URL, Protocol: resp.Protocol, Status: int(resp.Status), StatusText: resp.StatusText,
		Header: headers(resp.Headers), RequestHeader: headers(resp.RequestHeaders), RemoteIP: resp.RemoteIPAddress, Body: body.Body}
	if d.Body == nil {
		d.Body = []byte{}
	}
	return d
}

// headers turns Chromium's headers (repeated ones joined by newlines)
// into an http.Header.
func headers(h network.Headers) http.Header {
	out := http.Header{}
	for k, v := range h {
		for _, line := range strings.Split(fmt.Sprint(v), "\n") {
			out.Add(k, line)
		}
	}
	return out
}
