package redisstore

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The flat user-context reply (decodeUserContext) decodes field by field,
// and any cut or corruption of it is an error, never a panic.
func TestDecodeUserContextFlat(t *testing.T) {
	doc := `{"userName":"a@example.com","active":true}`
	s := func(v string) string { return strconv.Itoa(len(v)) + ":" + v }
	valid := "1*" + "5*" + s(doc) + s("okta") + s("2026-01-02T03:04:05Z") + s("2026-01-02T03:04:06Z") + s("3") +
		"1*" + "2*" + s("g1") + s("g2") + // memberof
		"2*" + s("admins") + s(`{"group":"g1","role":"admin"}`) + // mappings
		s("viewer") + // default role
		"1*" + "1*" + s("manual:editor") + // roles
		"2*" + s("g1") + "6*" + s(`{"displayName":"G1"}`) + s("okta") + s("2026-01-01T00:00:00Z") + s("2026-01-01T00:00:00Z") + s("7") + s("00g1") +
		s("g2") + "6*" + "-" + "-" + "-" + "-" + "-" + "-"
	uc, err := decodeUserContext([]string{"u1"}, true, valid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(uc.Users) != 1 || uc.Users[0].ID != "u1" || uc.Users[0].Version != 3 || uc.Users[0].Origin != "okta" ||
		uc.Users[0].UserName() != "a@example.com" || uc.Users[0].LastModified.Second() != 6 {
		t.Errorf("users %+v", uc.Users)
	}
	if m := uc.MemberOf["u1"]; len(m) != 2 || m[0] != "g1" || m[1] != "g2" {
		t.Errorf("memberOf %v", uc.MemberOf)
	}
	if g := uc.Groups["g1"]; len(uc.Groups) != 1 || g == nil || g.Version != 7 || g.OktaID != "00g1" || g.DisplayName() != "G1" {
		t.Errorf("groups %+v", uc.Groups)
	}
	if !uc.DefaultSet || uc.DefaultRole != "viewer" || len(uc.Mappings) != 1 || len(uc.Assigned["u1"]) != 1 || uc.Assigned["u1"][0].Role != "editor" {
		t.Errorf("roles %+v", uc)
	}
	// No user record, no default role, nothing else.
	empty := "1*5*-----" + "1*0*" + "0*" + "-" + "1*0*" + "0*"
	if uc, err := decodeUserContext([]string{"u1"}, true, empty, nil); err != nil || len(uc.Users) != 0 || uc.DefaultSet ||
		uc.MemberOf["u1"] == nil || len(uc.Groups) != 0 {
		t.Errorf("empty: %+v %v", uc, err)
	}
	for i := range len(valid) {
		if _, err := decodeUserContext([]string{"u1"}, true, valid[:i], nil); err == nil {
			t.Errorf("cut at %d: no error", i)
		}
	}
	for _, bad := range []any{valid + "x", strings.Replace(valid, "1*5*", "1*4*", 1), "99999999999999999999:", []any{"x"}} {
		if _, err := decodeUserContext([]string{"u1"}, true, bad, nil); err == nil {
			t.Errorf("%.40v: no error", bad)
		}
	}
	if _, err := decodeUserContext([]string{"u1", "u2"}, true, valid, nil); err == nil {
		t.Error("a reply for one user read as two: no error")
	}

	// With docs the user comes without its attributes, and its document
	// decodes (DecodeUserDoc) to the user the plain decoding gives, or
	// with its error.
	docs := make([]string, 1)
	dc, err := decodeUserContext([]string{"u1"}, true, valid, docs)
	if err != nil || len(dc.Users) != 1 || dc.Users[0].Attrs != nil || docs[0] != doc {
		t.Fatalf("docs: %+v %q %v", dc.Users, docs, err)
	}
	var st *Store
	if err := st.DecodeUserDoc(dc.Users[0], docs[0]); err != nil || !reflect.DeepEqual(dc, uc) {
		t.Errorf("DecodeUserDoc: %v\n%+v\nwant %+v", err, dc, uc)
	}
	badDoc := strings.Replace(valid, s(doc), s(`{"userName":`), 1)
	_, want := decodeUserContext([]string{"u1"}, true, badDoc, nil)
	dc, err = decodeUserContext([]string{"u1"}, true, badDoc, docs)
	if want == nil || err != nil {
		t.Fatalf("bad doc: %v, with docs %v", want, err)
	}
	if err := st.DecodeUserDoc(dc.Users[0], docs[0]); err == nil || err.Error() != want.Error() {
		t.Errorf("bad doc: DecodeUserDoc %v, UserContext %v", err, want)
	}
	// A bad document and a bad time: the document's error, as without docs.
	badBoth := strings.Replace(badDoc, s("2026-01-02T03:04:05Z"), s("yesterday"), 1)
	_, want = decodeUserContext([]string{"u1"}, true, badBoth, nil)
	if _, err := decodeUserContext([]string{"u1"}, true, badBoth, docs); err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("bad doc and time: %v, want %v", err, want)
	}
	badTime := strings.Replace(valid, s("2026-01-02T03:04:05Z"), s("yesterday"), 1)
	_, want = decodeUserContext([]string{"u1"}, true, badTime, nil)
	if _, err := decodeUserContext([]string{"u1"}, true, badTime, docs); err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("bad time: %v, want %v", err, want)
	}
}
