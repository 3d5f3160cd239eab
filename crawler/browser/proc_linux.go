//go:build linux

package browser

import (
	"os/exec"
	"syscall"

	"github.com/chromedp/chromedp"
)

// parentDeath makes the kernel kill Chromium when gather dies, also by
// SIGKILL, when no code of ours runs to stop it; its helper processes
// (zygote, renderers, network service) exit when their parent goes.
func parentDeath() chromedp.ExecAllocatorOption {
	return chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	})
}

// alive reports whether a process pid exists (it may be another program
// that got the number since: then its directories wait for a later sweep).
func alive(pid int) bool {
	return syscall.Kill(pid, 0) != syscall.ESRCH
}
