package scimserver

import "github.com/axonflow/axonflow-sync/internal/auththrottle"

// Defaults of the authentication-failure throttle (internal/auththrottle).
const (
	DefaultAuthFailBurst  = auththrottle.DefaultBurst  // failures a client address may make at once
	DefaultAuthFailRefill = auththrottle.DefaultRefill // one more failure allowed per interval
)
