//go:build !unix

package testredis

import (
	"errors"
	"os"
	"os/exec"
)

// setDeathSignal is a no-op here; rely on Main to stop servers.
func setDeathSignal(cmd *exec.Cmd) {}

func pause(p *os.Process) error  { return errors.New("pause not supported on this system") }
func resume(p *os.Process) error { return nil }
