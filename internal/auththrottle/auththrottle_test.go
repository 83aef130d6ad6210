package auththrottle

import (
	"testing"
	"time"
)

// TestFail: burst failures are admitted, the next is refused with the
// wait until one more is; refused failures are not charged, so after the
// refill interval exactly one more is admitted; addresses are separate.
func TestFail(t *testing.T) {
	th := New(3, 2*time.Second)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if w := th.Fail("a", t0); w != 0 {
			t.Fatalf("failure %d refused (%v)", i+1, w)
		}
	}
	if w := th.Fail("a", t0); w != 2*time.Second {
		t.Fatalf("4th failure: wait %v, want 2s", w)
	}
	for i := 0; i < 10; i++ {
		th.Fail("a", t0.Add(time.Second))
	}
	if w := th.Fail("b", t0); w != 0 {
		t.Fatalf("another address refused (%v)", w)
	}
	if w := th.Fail("a", t0.Add(2*time.Second)); w != 0 {
		t.Fatalf("after the refill interval: wait %v, want 0", w)
	}
	if w := th.Fail("a", t0.Add(2*time.Second)); w == 0 {
		t.Fatal("two failures admitted after one refill interval")
	}
	if got := RetryAfterSeconds(1500 * time.Millisecond); got != 2 {
		t.Fatalf("RetryAfterSeconds(1.5s) = %d, want 2", got)
	}
}
