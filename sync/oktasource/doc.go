// Package oktasource reads an Okta app's user assignments, group assignments
// and group memberships for axonflow-sync. It is the Okta side of the
// reconciler (package sync) and is meant to be imported by it only.
//
// The central call is Client.Pull, which returns a Snapshot only when every
// read completed: any failure (HTTP errors after retries, rate limits, paging
// loops, runaway paging, cancellation) yields an error wrapping
// *IncompleteError and no data, because acting on a partial read would look
// like mass deletions.
//
// A Client wraps github.com/okta/okta-sdk-golang/v2 (v2.20.0) with its own HTTP
// transport: bounded retries with backoff on 429, 5xx and network errors
// (honouring X-Rate-Limit-Reset), a proactive throttle that keeps a share of
// every Okta rate-limit bucket free for the org's other clients
// (Config.RateLimitReserve), and a cap on requests in flight
// (Config.MaxInFlight). Okta references:
// https://developer.okta.com/docs/api/openapi/okta-management/management/ and
// https://developer.okta.com/docs/reference/rl-best-practices/.
//
// Tests run against the fake org in package oktatest.
package oktasource
