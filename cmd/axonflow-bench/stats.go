package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"
)

// latencies is a set of request latencies. Phases are short and loopback
// requests take ~100 µs at least, so a phase records at most a few hundred
// thousand samples: keeping them all and sorting once is exact and cheaper
// than maintaining a histogram.
type latencies []time.Duration

// summary is what the report shows of a latency distribution.
type summary struct {
	N    int           `json:"n"`
	Mean time.Duration `json:"mean_ns"`
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
}

// summarize sorts l in place and returns its percentiles (nearest-rank).
func (l latencies) summarize() summary {
	if len(l) == 0 {
		return summary{}
	}
	slices.Sort(l)
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	return summary{
		N:    len(l),
		Mean: sum / time.Duration(len(l)),
		P50:  percentile(l, 50),
		P90:  percentile(l, 90),
		P99:  percentile(l, 99),
		Max:  l[len(l)-1],
	}
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of the
// sorted sample s: the smallest value such that at least p % of the sample
// is at or below it. It returns 0 for an empty sample.
func percentile(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	if p <= 0 {
		return s[0]
	}
	// rank = ceil(p/100 · n); the epsilon keeps 99 % of 100 at rank 99
	// despite floating-point error.
	n := len(s)
	rank := int(math.Ceil(p*float64(n)/100 - 1e-9))
	rank = max(1, min(n, rank))
	return s[rank-1]
}

// errorCounts counts failed requests by HTTP status ("409") or by transport
// failure ("net").
type errorCounts map[string]int

func (e errorCounts) total() int {
	n := 0
	for _, v := range e {
		n += v
	}
	return n
}

// String lists the counts ordered by key, e.g. "409×3 503×1"; "-" when empty.
func (e errorCounts) String() string {
	if len(e) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += k + "×" + strconv.Itoa(e[k])
	}
	return s
}

// fmtDur formats a latency for the table: µs below 1 ms, ms with one
// decimal below 100 ms, whole ms above.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// fmtRate formats a per-second rate with thousands separators ("12,345").
func fmtRate(r float64) string {
	if r <= 0 {
		return "-"
	}
	return groupDigits(int64(r + 0.5))
}

func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
