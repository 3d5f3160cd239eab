package browser

import (
	"context"
	"iter"
	"net/url"

	"github.com/chromedp/cdproto/fetch"
)

// ProxyAuth answers a proxy's request for credentials: Chromium takes a
// proxy on the command line without them (--proxy-server has no place
// for a password), and asks through the DevTools Fetch domain instead.
// origin is the proxy's ("http://127.0.0.1:3128"); ok false cancels.
type ProxyAuth func(origin *url.URL) (user, password string, ok bool)

// answerAuth answers the tab's authRequired events: a proxy's with
// Options.ProxyAuth once per request (a second challenge for the same
// request means the credentials were refused: cancelled, so that the
// page fails instead of asking forever), a site's with Chromium's default
// (which cancels: a crawl has no one to type a password).
func (b *Browser) answerAuth(ctx context.Context, events iter.Seq2[fetch.EventAuthRequired, error]) {
	answered := map[fetch.RequestID]bool{}
	for ev, err := range events {
		if err != nil {
			return
		}
		resp := &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseDefault}
		if ch := ev.AuthChallenge; ch != nil && ch.Source == fetch.AuthChallengeSourceProxy {
			resp.Response = fetch.AuthChallengeResponseResponseCancelAuth
			if u, perr := url.Parse(ch.Origin); perr == nil && !answered[ev.RequestID] && b.opts.ProxyAuth != nil {
				if user, pass, ok := b.opts.ProxyAuth(u); ok {
					resp = &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials, Username: user, Password: pass}
				}
			}
			if resp.Response == fetch.AuthChallengeResponseResponseCancelAuth {
				b.log.Warn("browser: the proxy refused the credentials or wants some", "proxy", ch.Origin, "url", ev.Request.URL)
			}
			answered[ev.RequestID] = true
		}
		call(ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID, AuthChallengeResponse: resp})
	}
}
