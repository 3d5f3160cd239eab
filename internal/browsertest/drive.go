package browsertest

import (
	"context"
	"time"

	"github.com/chromedp/chromedp"
)

// Context is the browser tab's context, for tests that drive the page
// themselves with chromedp actions or listen for its events.
func (b *Browser) Context() context.Context { return b.ctx }

// Run runs chromedp actions in the tab, failing after timeout.
func (b *Browser) Run(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}
