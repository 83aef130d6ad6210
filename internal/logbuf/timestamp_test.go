package logbuf

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestTimestampLikeZerologs: a line logged with the Timestamp hook is the
// line zerolog's own Timestamp writes, field for field and in the same
// place, with the time of the event to the millisecond.
func TestTimestampLikeZerologs(t *testing.T) {
	prev := zerolog.TimeFieldFormat
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000Z07:00"
	defer func() { zerolog.TimeFieldFormat = prev }()
	var ours, theirs bytes.Buffer
	h := &Timestamp{}
	before := time.Now().Truncate(time.Millisecond)
	l := zerolog.New(&ours).Hook(h)
	l.Info().Str("a", "b").Int("n", 1).Msg("m")
	l.Info().Str("a", "c").Msg("m2") // the cached text, or the next millisecond's
	after := time.Now()
	zl := zerolog.New(&theirs).With().Timestamp().Logger()
	zl.Info().Str("a", "b").Int("n", 1).Msg("m")
	stamp := regexp.MustCompile(`"time":"[^"]*"`)
	lines := bytes.Split(bytes.TrimSpace(ours.Bytes()), []byte("\n"))
	if got, want := stamp.ReplaceAll(lines[0], []byte(`"time":"T"`)), stamp.ReplaceAll(bytes.TrimSpace(theirs.Bytes()), []byte(`"time":"T"`)); !bytes.Equal(got, want) {
		t.Errorf("line with the hook\n%s\nzerolog's\n%s", got, want)
	}
	for _, line := range lines {
		var v struct{ Time string }
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatal(err)
		}
		at, err := time.Parse(zerolog.TimeFieldFormat, v.Time)
		if err != nil {
			t.Fatalf("time %q: %v", v.Time, err)
		}
		if at.Before(before) || at.After(after) {
			t.Errorf("time %s is not between %s and %s", at, before, after)
		}
	}
}

// TestTimestampNewMillisecond: an event in a later millisecond gets its own
// time, not the cached text.
func TestTimestampNewMillisecond(t *testing.T) {
	prev := zerolog.TimeFieldFormat
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000Z07:00"
	defer func() { zerolog.TimeFieldFormat = prev }()
	var out bytes.Buffer
	h := &Timestamp{}
	l := zerolog.New(&out).Hook(h)
	l.Info().Msg("")
	first := h.cur.Load()
	time.Sleep(2 * time.Millisecond)
	l.Info().Msg("")
	if second := h.cur.Load(); second.ms <= first.ms || second.text == first.text {
		t.Errorf("after 2 ms the hook wrote %q again (ms %d, %d)", second.text, first.ms, second.ms)
	}
}
