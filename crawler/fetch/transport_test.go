package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The dialer refuses loopback, private, link-local and metadata addresses
// before a connection is made, unless the crawl is allowed them.
func TestTransport_RefusesPrivateAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hi")) }))
	defer srv.Close()
	guarded := &http.Client{Transport: NewTransport(Options{Timeout: 2 * time.Second, Parallelism: 1, AllowPrivate: false})}
	for _, u := range []string{srv.URL, "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:1/", "http://192.168.0.1/", "http://100.64.0.1/"} {
		_, err := guarded.Get(u)
		if !errors.Is(err, ErrAddressRefused) {
			t.Errorf("%s: err = %v, want address refused", u, err)
		}
	}
	open := &http.Client{Transport: NewTransport(Options{Timeout: 2 * time.Second, Parallelism: 1, AllowPrivate: true})}
	resp, err := open.Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
	resp.Body.Close()
	for _, ip := range []string{"8.8.8.8", "2606:4700::1"} {
		if IsPrivate(net.ParseIP(ip)) {
			t.Errorf("%s counted as private", ip)
		}
	}
}

// A request that runs past the timeout fails as a timeout, and the
// Retry-After pause holds one host only.
func TestTransport_TimeoutAndHostPause(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	tr := NewTransport(Options{Timeout: 200 * time.Millisecond, Parallelism: 1, AllowPrivate: true})
	c := &http.Client{Transport: tr}
	_, err := c.Get(hang.URL)
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want a timeout", err)
	}
	if d := DecideError(err); d.Verdict != Retry || d.Reason[:8] != "timeout:" {
		t.Errorf("timeout decision %+v", d)
	}
	tr.Pause("paused.example:80", time.Now().Add(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := tr.gates.wait(ctx, "paused.example:80"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("paused host was not held: %v", err)
	}
	if err := tr.gates.wait(context.Background(), "other.example:80"); err != nil {
		t.Errorf("other host held: %v", err)
	}
}
