package fetch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// busy reports whether host has no free slot: a take that waits 50ms
// gets none. A slot that is free is taken at once, so a loaded machine
// cannot make a free slot look busy, only slower to show.
func busy(t *testing.T, l *HostLimits, host string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	release, err := l.Take(ctx, host)
	if err == nil {
		release()
		return false
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("take: %v", err)
	}
	return true
}

func mustTake(t *testing.T, l *HostLimits, host string) func() {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	release, err := l.Take(ctx, host)
	if err != nil {
		t.Fatalf("take %s: %v", host, err)
	}
	return release
}

func TestHostLimits_ParallelismPerHost(t *testing.T) {
	l := NewHostLimits(2, 0, 0)
	a1, a2 := mustTake(t, l, "a:80"), mustTake(t, l, "a:80")
	if !busy(t, l, "a:80") {
		t.Fatal("a third request of a host at parallelism 2 got a slot")
	}
	// Another port is another host.
	b := mustTake(t, l, "a:81")
	a1()
	if busy(t, l, "a:80") {
		t.Error("a released slot (no delay) was not free")
	}
	a2()
	b()
}

func TestHostLimits_DelayHoldsTheSlot(t *testing.T) {
	l := NewHostLimits(1, time.Hour, 0)
	mustTake(t, l, "a:80")()
	if !busy(t, l, "a:80") {
		t.Error("the slot was free before the host's delay passed")
	}
	if busy(t, l, "b:80") {
		t.Error("a host's delay held up another host")
	}
}

func TestHostLimits_CrawlDelayMeansOneAtATime(t *testing.T) {
	l := NewHostLimits(8, 0, 0)
	l.Set("slow:80", 2*time.Second)
	l.Set("slow:80", 0) // the first limit set stays
	release := mustTake(t, l, "slow:80")
	if !busy(t, l, "slow:80") {
		t.Error("a host with a Crawl-delay took two requests at once")
	}
	release()
	if !busy(t, l, "slow:80") {
		t.Error("the slot was free before the Crawl-delay passed")
	}
	for range 8 {
		mustTake(t, l, "fast:80")
	}
}

func TestHostLimits_WaitEndsWithContext(t *testing.T) {
	l := NewHostLimits(1, 0, 0)
	mustTake(t, l, "a:80")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.Take(ctx, "a:80")
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("take after cancel: %v", err)
	}
}

type bodyTransport struct{}

func (bodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("page")), Request: req}, nil
}

// The gate holds a request's slot until its body is closed: that is when
// colly has read the page, as its own LimitRule held it.
func TestLimitGate_SlotHeldUntilBodyClosed(t *testing.T) {
	l := NewHostLimits(1, 0, 0)
	g := LimitGate{Next: bodyTransport{}, Limits: l}
	req, _ := http.NewRequest("GET", "http://a.test/1", nil)
	resp, err := g.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if !busy(t, l, "a.test") {
		t.Fatal("the slot was free while the body was unread")
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body.Close() // a second Close gives nothing back twice
	if busy(t, l, "a.test") {
		t.Error("the slot was not free once the body was closed")
	}
	release := mustTake(t, l, "a.test")
	if !busy(t, l, "a.test") {
		t.Error("a double Close freed a second slot")
	}
	release()
}
