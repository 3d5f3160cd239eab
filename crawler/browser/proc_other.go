//go:build !linux

package browser

import "github.com/chromedp/chromedp"

// parentDeath keeps chromedp's default elsewhere: there is no parent-death
// signal outside Linux, so a killed gather may leave a Chromium behind.
func parentDeath() chromedp.ExecAllocatorOption {
	return func(*chromedp.ExecAllocator) {}
}

// alive says yes: without a portable test, no directory is swept.
func alive(int) bool { return true }
