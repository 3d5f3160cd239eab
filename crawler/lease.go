package crawler

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/gather-crawler/gather/storage"
)

// acquireLease takes the job's lease. A lease held by a process of this
// host that no longer exists (killed, crashed) is taken over at once rather
// than after it expires, so a crawl restarted after kill -9 resumes
// immediately.
func (c *Crawler) acquireLease(ctx context.Context) error {
	job := c.cfg.Crawl.Name
	err := c.store.AcquireLease(ctx, job, c.opts.Owner, c.opts.LeaseTTL)
	var held *storage.LeaseHeldError
	if !errors.As(err, &held) || !deadLocalOwner(held.Holder) {
		return err
	}
	c.log.Warn("taking over the job from a process that no longer exists", "job", job, "holder", held.Holder)
	return c.store.TakeLease(ctx, job, held.Holder, c.opts.Owner, c.opts.LeaseTTL)
}

// deadLocalOwner reports whether owner ("host:pid") names a process of
// this host that is gone.
func deadLocalOwner(owner string) bool {
	host, pidText, ok := strings.Cut(owner, ":")
	if !ok {
		return false
	}
	me, _ := os.Hostname()
	pid, err := strconv.Atoi(pidText)
	if host != me || err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
