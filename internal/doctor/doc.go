// Package doctor diagnoses a SCIM 2.0 connection the way Okta would use it.
//
// Given the SCIM Base URL and the Authorization value an admin entered in
// Okta's "SCIM 2.0 Test App (Header Auth)", Run replays what Okta sends when
// it tests API credentials and imports users (discovery, the first page of
// /Users, an unknown-userName filter, an unknown id, a bad token, /Groups),
// and with Options.WriteTest also what it sends when it provisions: create,
// read, update, deactivate and reactivate a clearly named test user, push a
// test group and change its members, then clean up. Requests carry Okta's
// headers (User-Agent, Content-Type, Accept) and body shapes.
//
// Every problem becomes a Check with a plain-words diagnosis and its fix, in
// the terms of the AxonFlow Okta setup guide (SCIM Base URL, Authorization,
// Test API Credentials, ...). The checks work against any SCIM server; only
// the tenant check relies on AxonFlow's X-AxonFlow-Tenant response header.
//
// Only cmd/axonflow-sync imports this package (the doctor subcommand). It
// imports nothing else of this module, so it can diagnose other servers too.
package doctor
