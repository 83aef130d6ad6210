package logbuf

import (
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Timestamp is a zerolog hook that adds the time of each event, as
// zerolog's own (zerolog.Context.Timestamp: the field
// zerolog.TimestampFieldName, time.Now formatted with
// zerolog.TimeFieldFormat, in the same place of the line), with the
// formatted text kept for the rest of its millisecond: a busy serve writes
// a dozen request lines a millisecond, and formatting the same time again
// for each was about 2 % of a GET's CPU. The cache is only right for a
// format whose finest unit is the millisecond or coarser
// ("2006-01-02T15:04:05.000Z07:00", serve's); with a finer one (or none
// that Go's time.Format reads) use zerolog's hook instead. Add it with
// zerolog.Logger.Hook; safe for concurrent use.
type Timestamp struct {
	cur atomic.Pointer[stamp]
}

// stamp is the text of one millisecond (Unix milliseconds ms).
type stamp struct {
	ms   int64
	text string
}

// Run implements zerolog.Hook.
func (h *Timestamp) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	now := time.Now()
	ms := now.UnixMilli()
	s := h.cur.Load()
	if s == nil || s.ms != ms {
		s = &stamp{ms: ms, text: now.Format(zerolog.TimeFieldFormat)}
		h.cur.Store(s)
	}
	e.Str(zerolog.TimestampFieldName, s.text)
}
