//go:build unix && !linux

package testredis

import (
	"os"
	"os/exec"
	"syscall"
)

// setDeathSignal is a no-op outside Linux; rely on Main to stop servers.
func setDeathSignal(cmd *exec.Cmd) {}

func pause(p *os.Process) error  { return p.Signal(syscall.SIGSTOP) }
func resume(p *os.Process) error { return p.Signal(syscall.SIGCONT) }
