package storetest

import (
	"testing"
	"time"
)

// testSessions: an ended session is reported ended until its record's
// until passes, then not; an unknown id is not ended; ending twice is fine;
// an until already past records nothing.
func testSessions(t *testing.T, f *fixture) {
	id := "sess-" + f.tenant // ids are global: keep this run's apart
	ended := func(id string) bool {
		t.Helper()
		ok, err := f.s.SessionEnded(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if ended(id) {
		t.Fatal("a session never ended is reported ended")
	}
	until := time.Now().Add(1500 * time.Millisecond)
	for range 2 {
		if err := f.s.EndSession(f.ctx, id, until); err != nil {
			t.Fatal(err)
		}
	}
	if !ended(id) || ended(id+"x") {
		t.Fatalf("after EndSession: ended(id) %v, ended(other) %v", ended(id), ended(id+"x"))
	}
	if err := f.s.EndSession(f.ctx, id+"-past", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if ended(id + "-past") {
		t.Error("a session ended with an until already past is reported ended")
	}
	time.Sleep(time.Until(until) + 200*time.Millisecond)
	if ended(id) {
		t.Error("an ended session is still reported ended after its until")
	}
}
