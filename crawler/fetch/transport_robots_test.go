package fetch

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler/robots"
)

// Over the crawl's own transport, an unreachable host is disallowed, and
// the reason says so and why in the words of pages' reasons, not
// as if robots.txt had been read.
func TestRobots_Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ok, why, err := robots.New(NewTransport(Options{Timeout: 10 * time.Second, Parallelism: 1, AllowPrivate: true}), "gatherbot/2.1", Describe).Allowed(context.Background(), &url.URL{Scheme: "http", Host: addr, Path: "/x"})
	if err != nil || ok {
		t.Fatalf("allowed %v, %v", ok, err)
	}
	want := "robots.txt unreachable (connection refused): the host is disallowed until it answers; the page was not fetched"
	if why != want {
		t.Errorf("reason %q, want %q", why, want)
	}

	// A server that hangs: the transport's timeout, named.
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	rb := robots.New(NewTransport(Options{Timeout: 100 * time.Millisecond, Parallelism: 1, AllowPrivate: true}), "gatherbot/2.1", Describe)
	u, err := url.Parse(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	ok, why, err = rb.Allowed(context.Background(), u)
	if err != nil || ok || !strings.HasPrefix(why, "robots.txt unreachable (timeout: request timed out after 100ms)") {
		t.Errorf("hanging robots.txt: allowed %v (%q), %v", ok, why, err)
	}
}
