// Package oktatest is an in-process fake of the parts of the Okta Management
// API that axonflow-sync reads: application user and group assignments, groups,
// group members, users, and the OAuth 2.0 client-credentials token endpoint used
// by private-key (service app) authentication.
//
// It is for tests and benchmarks only: import it from _test.go files (of any
// package) or from test helpers, never from production code. Nothing in it is
// hardened for untrusted input.
//
// A Server is an httptest.Server that behaves like an Okta org in the ways that
// matter to a sync client (see Okta's Management API reference,
// https://developer.okta.com/docs/api/openapi/okta-management/management/, and
// the rate-limit guide, https://developer.okta.com/docs/reference/rl-global-mgmt/):
//
//   - cursor paging with two separate Link header lines (rel="self" and, only
//     when more results exist, rel="next") and opaque `after` cursors;
//   - each endpoint's default and maximum `limit`;
//   - Content-Type application/json, timestamps like 2026-01-02T03:04:05.000Z,
//     a Date header and X-Okta-Request-Id on every response;
//   - X-Rate-Limit-Limit / -Remaining / -Reset on every response, per-bucket
//     limits (the apps bucket is small, the groups bucket larger) and 429
//     E0000047 when a bucket is exhausted;
//   - SSWS API-token auth (401 E0000011), OAuth access tokens obtained with a
//     private-key JWT client assertion (Bearer auth, 403 E0000006 for missing
//     scopes), 404 E0000007 for unknown ids;
//   - fault injection (5xx on the Nth request, 429 storms, slow responses,
//     repeated cursors, endless next links, empty pages) and per-route request
//     counters, both safe for concurrent use.
//
// Seed state with AddUser, AddGroup, AddGroupMember, AssignUser and AssignGroup,
// or generate a deterministic org of any size with Seed.
package oktatest
