package archive

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"time"
)

// Capture is an http.RoundTripper that hands every exchange it carries to
// Done once the caller has read and closed the response body: the request
// as the transport got it, the response as received, the body as read
// (after transfer decoding, and after the gunzip Go's transport does when
// it negotiated gzip itself). Each redirect hop is an exchange of its own.
// A body closed before its end is marked truncated. Put it directly over
// the http.Transport, beneath anything that rewrites responses, so what it
// records is what came over the wire.
type Capture struct {
	// Next carries the request; nil means http.DefaultTransport.
	Next http.RoundTripper
	// Done receives each exchange, called in the goroutine that closes the
	// body; a response whose body is never closed is never reported.
	Done func(*Exchange)
	// ReuseBodies lets the copy of each body go back to a pool once Done
	// returns, for the next response: Done must not keep Exchange.Body
	// (Writer.Write does not). Grown anew for every page, the copy left
	// about twice the body in garbage and copies (a demo page, 87 KB).
	ReuseBodies bool
}

// bodyBufs are the copies of bodies Capture.ReuseBodies returns.
var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// RoundTrip implements http.RoundTripper.
func (c *Capture) RoundTrip(req *http.Request) (*http.Response, error) {
	next := c.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil || resp == nil || c.Done == nil {
		return resp, err
	}
	if resp.Request == nil {
		resp.Request = req
	}
	// The response as it arrived: the layers above may change its header
	// in place (gather's hide the charset from colly and mark what they
	// found) before the body is closed and the exchange written.
	arrived := *resp
	arrived.Header = resp.Header.Clone()
	cb := &captureBody{rc: resp.Body, resp: &arrived, done: c.Done, at: time.Now(), reuse: c.ReuseBodies}
	if cb.reuse {
		cb.buf = bodyBufs.Get().(*bytes.Buffer)
	} else {
		cb.buf = new(bytes.Buffer)
	}
	// Sized once when the length is announced, not grown by doubling.
	if n := resp.ContentLength; n > 0 && n <= maxPresize {
		cb.buf.Grow(int(n))
	}
	resp.Body = cb
	return resp, nil
}

// maxPresize bounds what an announced Content-Length reserves up front (a
// larger body grows its buffer as it arrives, so a lying header reserves
// no more than this), and the buffers kept for reuse.
const maxPresize = 16 << 20

type captureBody struct {
	rc   io.ReadCloser
	resp *http.Response
	done func(*Exchange)
	at   time.Time
	// reuse: buf goes back to bodyBufs after done.
	reuse bool
	once  sync.Once

	// mu guards buf and eof: a Read racing the Close (misuse, but a
	// pooled buffer is another page's next) appends to nothing.
	mu  sync.Mutex
	buf *bytes.Buffer // nil once closed
	eof bool
}

func (b *captureBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	if b.buf != nil {
		b.buf.Write(p[:n])
		if err == io.EOF {
			b.eof = true
		}
	}
	b.mu.Unlock()
	return n, err
}

func (b *captureBody) Close() error {
	err := b.rc.Close()
	b.once.Do(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		// A response that has no body (HEAD, 204, 304, a zero length) was
		// whole even if nobody read to its end.
		whole := b.eof || b.resp.ContentLength == 0 || !bodyAllowed(b.resp.Request.Method, b.resp.StatusCode)
		ex := ExchangeFromResponse(b.resp, b.buf.Bytes(), !whole)
		ex.Date = b.at
		b.done(ex)
		if b.reuse && b.buf.Cap() <= maxPresize {
			b.buf.Reset()
			bodyBufs.Put(b.buf)
		}
		b.buf = nil
	})
	return err
}
