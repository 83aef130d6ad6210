//go:build !linux

package testredis

import "os/exec"

// setDeathSignal is a no-op outside Linux; rely on Main to stop servers.
func setDeathSignal(cmd *exec.Cmd) {}
