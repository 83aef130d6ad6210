package scimserver_test

// Identifiers with control or bidi formatting characters (issue 12 item 4)
// are refused with 400 invalidValue on every write path, and nothing is
// stored.

import (
	"net/http"
	"testing"
)

var badIdentifierValues = map[string]string{
	"ESC":            "ada\x1b[2J@example.com",
	"NUL":            "ada\x00@example.com",
	"newline":        "ada\n@example.com",
	"DEL":            "ada\x7f@example.com",
	"C1 CSI":         "ada\u009b31m@example.com",
	"RLO":            "ada\u202emoc.elpmaxe@",
	"LRI":            "ada\u2066@example.com",
	"RLM":            "ada\u200f@example.com",
	"line separator": "ada\u2028@example.com",
}

func TestIdentifierControlCharactersRejected(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		uid := e.createUser(t, "good@example.com")
		gid := e.createGroup(t, "Good Group")
		for what, bad := range badIdentifierValues {
			for _, attr := range []string{"userName", "displayName", "externalId"} {
				body := oktaUser("new-"+attr+"@example.com", uniqueID("00u"))
				body[attr] = bad
				mustSCIMError(t, e.post(t, "/Users", body), http.StatusBadRequest, "invalidValue")
				body["userName"], body["externalId"] = "good@example.com", ""
				body[attr] = bad
				mustSCIMError(t, e.put(t, "/Users/"+uid, body), http.StatusBadRequest, "invalidValue")
				mustSCIMError(t, e.patch(t, "/Users/"+uid, op("replace", attr, bad)), http.StatusBadRequest, "invalidValue")
				mustSCIMError(t, e.patch(t, "/Users/"+uid, op("replace", "", map[string]any{attr: bad})), http.StatusBadRequest, "invalidValue")
			}
			for _, attr := range []string{"displayName", "externalId"} {
				body := map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "G " + what}
				body[attr] = bad
				mustSCIMError(t, e.post(t, "/Groups", body), http.StatusBadRequest, "invalidValue")
				mustSCIMError(t, e.put(t, "/Groups/"+gid, body), http.StatusBadRequest, "invalidValue")
				mustSCIMError(t, e.patch(t, "/Groups/"+gid, op("replace", attr, bad)), http.StatusBadRequest, "invalidValue")
			}
		}
		// Nothing was stored: one user, one group, unchanged.
		if r := e.get(t, "/Users"); jint(t, r.Body, "totalResults") != 1 {
			t.Errorf("users after rejected writes: %s", r)
		}
		if r := e.get(t, "/Users/"+uid); jstr(r.Body, "userName") != "good@example.com" || jstr(r.Body, "displayName") != "Ada Okafor" {
			t.Errorf("user changed by rejected writes: %s", r)
		}
		if r := e.get(t, "/Groups/"+gid); jstr(r.Body, "displayName") != "Good Group" {
			t.Errorf("group changed by rejected writes: %s", r)
		}
		// Letters of any script, spaces and symbols stay accepted.
		e.createUser(t, "josé.名前+tag@example.com", map[string]any{"displayName": "José 名前 O'Brien"})
	})
}

// Lookalike userNames (issue 12 item 5) are the same identity: a second
// POST is 409 uniqueness, an eq filter with any of them finds the one user,
// and a userName that cannot be normalised is 400 invalidValue.
func TestUserNameLookalikesAreOneUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "josé@example.com")
		for _, name := range []string{
			"jose\u0301@example.com",
			"josé@example.com\u200b",
			" josé@example.com",
			"ｊｏｓé＠ｅｘａｍｐｌｅ．ｃｏｍ",
		} {
			mustSCIMError(t, e.post(t, "/Users", oktaUser(name, uniqueID("00u"))), http.StatusConflict, "uniqueness")
			r := e.get(t, "/Users"+filterQS(`userName eq "`+name+`"`))
			if l := resources(t, r); len(l) != 1 || jstr(l[0], "id") != id {
				t.Errorf("filter userName eq %q: %s", name, r)
			}
		}
		for _, bad := range []string{"\u200b", "   ", "ada\u0378@example.com"} {
			mustSCIMError(t, e.post(t, "/Users", oktaUser(bad, uniqueID("00u"))), http.StatusBadRequest, "invalidValue")
		}
		if r := e.get(t, "/Users"); jint(t, r.Body, "totalResults") != 1 {
			t.Errorf("lookalikes made more users: %s", r)
		}
	})
}
