package oktasource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/rs/zerolog"
)

// Stats counts a Client's traffic with Okta. All counters are cumulative.
type Stats struct {
	// APICalls is the number of HTTP requests sent to Okta, retries and OAuth
	// token requests included.
	APICalls int64
	// Pages is the number of list pages received and decoded.
	Pages int64
	// Retries is the number of requests re-sent after 429, 5xx or a network error.
	Retries int64
	// RateLimited is the number of 429 responses received.
	RateLimited int64
	// ServerErrors is the number of 5xx responses received.
	ServerErrors int64
	// TokenRequests is the number of OAuth token requests sent.
	TokenRequests int64
	// ThrottleWaits counts pauses by the proactive throttle (bucket at its
	// reserve); ThrottleWait is their total duration.
	ThrottleWaits int64
	ThrottleWait  time.Duration
}

// Sub returns s - o, counter by counter (the traffic between two snapshots).
func (s Stats) Sub(o Stats) Stats {
	return Stats{
		APICalls: s.APICalls - o.APICalls, Pages: s.Pages - o.Pages, Retries: s.Retries - o.Retries,
		RateLimited: s.RateLimited - o.RateLimited, ServerErrors: s.ServerErrors - o.ServerErrors,
		TokenRequests: s.TokenRequests - o.TokenRequests, ThrottleWaits: s.ThrottleWaits - o.ThrottleWaits,
		ThrottleWait: s.ThrottleWait - o.ThrottleWait,
	}
}

type counters struct {
	apiCalls, pages, retries, rateLimited, serverErrors, tokenRequests atomic.Int64
	throttleWaits, throttleWaitNanos                                   atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		APICalls: c.apiCalls.Load(), Pages: c.pages.Load(), Retries: c.retries.Load(),
		RateLimited: c.rateLimited.Load(), ServerErrors: c.serverErrors.Load(),
		TokenRequests: c.tokenRequests.Load(), ThrottleWaits: c.throttleWaits.Load(),
		ThrottleWait: time.Duration(c.throttleWaitNanos.Load()),
	}
}

// resetMargin is added to waits for a rate-limit reset: Okta's reset has one
// second resolution and clocks are not perfectly aligned.
const resetMargin = 50 * time.Millisecond

// rateHeaders is a parsed X-Rate-Limit-* triple. reset is on the local clock.
type rateHeaders struct {
	limit, remaining int
	reset            time.Time
}

// parseRateHeaders reads X-Rate-Limit-Limit/-Remaining/-Reset. The reset
// (epoch seconds on Okta's clock) is moved to the local clock using the Date
// header when the two clocks differ by more than two seconds.
func parseRateHeaders(h http.Header, now time.Time) (rateHeaders, bool) {
	limit, err1 := strconv.Atoi(h.Get("X-Rate-Limit-Limit"))
	rem, err2 := strconv.Atoi(h.Get("X-Rate-Limit-Remaining"))
	reset, err3 := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || limit <= 0 {
		return rateHeaders{}, false
	}
	at := time.Unix(reset, 0)
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		if skew := d.Sub(now); skew > 2*time.Second || skew < -2*time.Second {
			at = at.Add(-skew)
		}
	}
	return rateHeaders{limit: limit, remaining: rem, reset: at}, true
}

// bucketKey maps a request path to the rate-limit bucket it draws from. All
// /api/v1/apps endpoints share one bucket at Okta; other endpoints are keyed
// by their path pattern with ids replaced, which is never coarser than Okta's.
func bucketKey(path string) string {
	p := strings.Trim(path, "/")
	segs := strings.Split(p, "/")
	if len(segs) >= 3 && segs[0] == "api" && segs[1] == "v1" {
		segs = segs[2:]
		if segs[0] == "apps" {
			return "apps"
		}
		for i := 1; i < len(segs); i += 2 {
			segs[i] = "{id}"
		}
		return strings.Join(segs, "/")
	}
	return p
}

type bucketState struct {
	known   bool
	limit   int
	remain  int
	reset   time.Time
	pending int // admitted requests whose response has not been seen
}

// throttle pauses requests while a bucket is at its reserve.
type throttle struct {
	reserve float64
	maxWait time.Duration
	stats   *counters
	log     zerolog.Logger

	mu      sync.Mutex
	buckets map[string]*bucketState
}

// admit blocks until a request on key may be sent; done must be called with
// the response (or nil) afterwards.
func (t *throttle) admit(ctx context.Context, key string) (done func(*http.Response), err error) {
	for {
		t.mu.Lock()
		b := t.buckets[key]
		if b == nil {
			b = &bucketState{}
			t.buckets[key] = b
		}
		now := time.Now()
		if b.known && !now.Before(b.reset) {
			b.known = false // the window has reset
		}
		if !b.known || float64(b.remain-b.pending) > float64(b.limit)*t.reserve {
			b.pending++
			t.mu.Unlock()
			return func(resp *http.Response) { t.observe(key, b, resp) }, nil
		}
		wait := b.reset.Sub(now) + resetMargin
		if wait > t.maxWait {
			wait = t.maxWait
		}
		remain, limit := b.remain, b.limit
		t.mu.Unlock()

		t.stats.throttleWaits.Add(1)
		t.log.Debug().Str("bucket", key).Int("remaining", remain).Int("limit", limit).
			Dur("wait", wait).Msg("okta rate-limit bucket at reserve; pausing until reset")
		start := time.Now()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			t.stats.throttleWaitNanos.Add(int64(time.Since(start)))
			return nil, ctx.Err()
		case <-timer.C:
		}
		t.stats.throttleWaitNanos.Add(int64(time.Since(start)))
		t.mu.Lock()
		if b.known && !time.Now().Before(b.reset) || wait == t.maxWait {
			b.known = false
		}
		t.mu.Unlock()
	}
}

func (t *throttle) observe(key string, b *bucketState, resp *http.Response) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b.pending > 0 {
		b.pending--
	}
	if resp == nil {
		return
	}
	rh, ok := parseRateHeaders(resp.Header, time.Now())
	if !ok {
		return
	}
	switch {
	case !b.known || rh.reset.After(b.reset):
		// New window (or first sight of this bucket).
		b.known, b.limit, b.remain, b.reset = true, rh.limit, rh.remaining, rh.reset
	case rh.reset.Equal(b.reset):
		// Same window: responses may arrive out of order; keep the lowest.
		b.limit = rh.limit
		b.remain = min(b.remain, rh.remaining)
	}
	if !time.Now().Before(b.reset) {
		b.known = false // reset already passed (e.g. a 429 whose reset lies before Date)
	}
}

// maxBodyBytes bounds one response body (a page of 1000 users is about 1 MB).
const maxBodyBytes = 64 << 20

// pageBodyKey is the request context key of a *pageBody.
type pageBodyKey struct{}

// pageBody receives the body of a list page request (slimPages): when the
// request's context holds one, the transport hands it the body of a 2xx
// JSON response and gives the SDK an empty body, so that the page is read
// once, by the lister, instead of being copied and decoded by the SDK.
// Other responses (errors, other content types) keep their body.
type pageBody struct {
	pooled *[]byte
	body   []byte
	got    bool
}

// set stores a page body read into the pooled buffer p.
func (pb *pageBody) set(p *[]byte, body []byte) {
	pb.release() // a 2xx is never retried; kept for safety
	pb.pooled, pb.body, pb.got = p, body, true
}

// release returns the body's buffer to the pool; the body is then gone.
func (pb *pageBody) release() {
	if pb.pooled != nil {
		bodyPool.Put(pb.pooled)
	}
	pb.pooled, pb.body = nil, nil
}

// bodyPool holds buffers page bodies are read into (a page of 500
// expanded app users is about 600 KiB; one buffer per request in flight).
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// readBody reads r to its end into b (reusing its capacity, sized up front
// from the Content-Length when known), at most maxBodyBytes+1 bytes.
func readBody(b []byte, r io.Reader, size int64) ([]byte, error) {
	if size > 0 && size <= maxBodyBytes && int64(cap(b)) < size+1 {
		b = make([]byte, 0, size+1)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):min(cap(b), maxBodyBytes+1)])
		b = b[:len(b)+n]
		switch {
		case err == io.EOF:
			return b, nil
		case err != nil:
			return b, err
		case len(b) > maxBodyBytes:
			return b, nil
		}
	}
}

// attemptTimeoutError reports an HTTP attempt that exceeded
// Config.RequestTimeout (it is retried like any network error).
type attemptTimeoutError struct{ d time.Duration }

func (e *attemptTimeoutError) Error() string {
	return "okta request attempt timed out after " + e.d.String() + " (Config.RequestTimeout)"
}
func (e *attemptTimeoutError) Timeout() bool   { return true }
func (e *attemptTimeoutError) Temporary() bool { return true }

// transport is the innermost layer: throttle, concurrency cap, per-attempt
// timeout, counters. It reads each response body completely before returning,
// so a body cut short (unexpected EOF, timeout) is an error of the attempt and
// is retried, and the in-flight slot is freed as soon as the bytes are in.
type transport struct {
	base     http.RoundTripper
	sem      chan struct{}
	throttle *throttle
	stats    *counters
	timeout  time.Duration
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	done, err := t.throttle.admit(ctx, bucketKey(req.URL.Path))
	if err != nil {
		return nil, err
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		done(nil)
		return nil, ctx.Err()
	}
	defer func() { <-t.sem }()
	t.stats.apiCalls.Add(1)
	if strings.HasSuffix(req.URL.Path, "/oauth2/v1/token") {
		t.stats.tokenRequests.Add(1)
	}
	actx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	resp, err := t.base.RoundTrip(req.WithContext(actx))
	pb, _ := ctx.Value(pageBodyKey{}).(*pageBody)
	var pooled *[]byte
	if err == nil {
		var body []byte
		if pb != nil {
			pooled = bodyPool.Get().(*[]byte)
			body, err = readBody((*pooled)[:0], resp.Body, resp.ContentLength)
			*pooled = body[:0]
		} else {
			body, err = io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
		}
		_ = resp.Body.Close()
		if err == nil && len(body) > maxBodyBytes {
			err = errors.New("okta response body larger than 64 MiB")
		}
		switch {
		case err == nil && pb != nil && req.Method == http.MethodGet && resp.StatusCode >= 200 && resp.StatusCode <= 299 &&
			strings.Contains(resp.Header.Get("Content-Type"), "application/json"):
			// A list page: its body goes to the lister (pageBody), the SDK
			// gets an empty one and decodes nothing.
			pb.set(pooled, body)
			pooled = nil
			resp.Body, resp.ContentLength = http.NoBody, 0
		default:
			if pooled != nil {
				body = bytes.Clone(body)
				bodyPool.Put(pooled)
				pooled = nil
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
		}
	}
	if err != nil {
		done(nil)
		if ctx.Err() == nil && actx.Err() != nil {
			err = &attemptTimeoutError{d: t.timeout}
		}
		return nil, err
	}
	done(resp)
	if resp.StatusCode == http.StatusTooManyRequests {
		t.stats.rateLimited.Add(1)
	}
	if resp.StatusCode >= 500 {
		t.stats.serverErrors.Add(1)
	}
	return resp, nil
}

// annotating fills in the request line of a RequestError coming back from
// the retrying client.
type annotating struct{ next http.RoundTripper }

func (a annotating) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := a.next.RoundTrip(req)
	var re *RequestError
	if errors.As(err, &re) {
		re.Method, re.Path = req.Method, req.URL.Path
	}
	return resp, err
}

// retryPolicy decides whether to re-send: on 429, 5xx (not 501) and network
// errors or timeouts, never once the caller's context is done.
func retryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		retry, _ := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
		return retry, nil
	}
	if resp.StatusCode == http.StatusTooManyRequests ||
		(resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented) {
		return true, nil
	}
	return false, nil
}

// backoff waits for the bucket reset after a 429 (from X-Rate-Limit-Reset,
// capped by maxRateWait) and exponentially with jitter otherwise.
func backoff(maxRateWait time.Duration) retryablehttp.Backoff {
	return func(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			if rh, ok := parseRateHeaders(resp.Header, time.Now()); ok {
				if d := time.Until(rh.reset) + resetMargin; d > 0 {
					return min(d+time.Duration(rand.Int64N(int64(100*time.Millisecond))), maxRateWait)
				}
			}
		}
		d := retryablehttp.DefaultBackoff(minWait, maxWait, attempt, resp)
		// ±20 % jitter so concurrent retries do not stampede.
		j := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
		return min(max(d+j, minWait), maxWait)
	}
}

// giveUp turns the last failed attempt into a *RequestError.
func giveUp(resp *http.Response, err error, attempts int) (*http.Response, error) {
	redactURLs(err)
	re := &RequestError{Attempts: attempts, Err: err}
	if err != nil && errors.Is(err, io.EOF) {
		// okta-sdk-golang v2 retries io.EOF errors forever with no backoff
		// (its retry counter is not advanced on that path): hide the EOF.
		re.Err = errors.New(err.Error())
	}
	if resp != nil {
		re.StatusCode = resp.StatusCode
		re.RequestID = resp.Header.Get("X-Okta-Request-Id")
		var body struct {
			ErrorCode    string `json:"errorCode"`
			ErrorSummary string `json:"errorSummary"`
		}
		if b, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10)); rerr == nil {
			_ = json.Unmarshal(b, &body)
		}
		_ = resp.Body.Close()
		re.ErrorCode, re.ErrorSummary = body.ErrorCode, body.ErrorSummary
	}
	return nil, re
}
