package oktatest

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// FaultKind says what an injected fault does to the requests it affects.
type FaultKind int

const (
	// FaultStatus answers with Fault.Status (default 503) and an Okta error body.
	FaultStatus FaultKind = iota + 1
	// FaultRateLimit answers 429 E0000047 with X-Rate-Limit-Remaining 0 and a
	// reset one second before Date, like Okta's concurrent-request limit.
	FaultRateLimit
	// FaultDelay sleeps Fault.Delay before handling the request.
	FaultDelay
	// FaultRepeatCursor makes the next link of list responses point to the
	// page itself (same URL), so a naive pager loops forever.
	FaultRepeatCursor
	// FaultEndlessPaging adds a next link to the last page; the pages beyond
	// are empty and always link to yet another fresh cursor.
	FaultEndlessPaging
	// FaultEmptyPage answers a list request with an empty page whose next link
	// (a fresh cursor) continues where the request would have started.
	FaultEmptyPage
	// FaultDropNext omits the next link although more results exist: a silent
	// truncation that a client cannot detect from the response.
	FaultDropNext
	// FaultDisconnect closes the connection without a response (the client
	// sees EOF / connection reset, like a load balancer dropping a slow call).
	FaultDisconnect
	// FaultTruncateBody sends the headers (with the full Content-Length) and
	// half of a successful response's body, then drops the connection: the
	// client sees an unexpected EOF while reading the body.
	FaultTruncateBody
)

// Fault is one injected misbehaviour. Requests to Route are counted from the
// moment the fault is added; requests number Nth .. Nth+Times-1 are affected.
type Fault struct {
	// Route is one of the Route* constants; empty matches every route.
	Route string
	Kind  FaultKind
	// Nth is the first affected request (1-based); 0 means 1.
	Nth int
	// Times is how many consecutive requests are affected; 0 means 1,
	// negative means every request from Nth on.
	Times int
	// Status is the HTTP status for FaultStatus (default 503).
	Status int
	// Delay is the sleep for FaultDelay.
	Delay time.Duration
	// Match optionally narrows the fault further (e.g. to one group id);
	// requests it rejects are neither affected nor counted.
	Match func(*http.Request) bool
}

type faultEntry struct {
	Fault
	id   int
	seen int
}

type faultSet struct {
	mu       sync.Mutex
	nextID   int
	list     []*faultEntry
	rewrites []rewriteEntry
}

type effects struct {
	status     int
	rateLimit  bool
	delay      time.Duration
	repeat     bool
	endless    bool
	emptyPage  bool
	dropNext   bool
	disconnect bool
	truncate   bool
}

func (fs *faultSet) add(f Fault) int {
	if f.Nth <= 0 {
		f.Nth = 1
	}
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Kind == FaultStatus && f.Status == 0 {
		f.Status = http.StatusServiceUnavailable
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.nextID++
	fs.list = append(fs.list, &faultEntry{Fault: f, id: fs.nextID})
	return fs.nextID
}

func (fs *faultSet) remove(id int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, e := range fs.list {
		if e.id == id {
			fs.list = append(fs.list[:i], fs.list[i+1:]...)
			return
		}
	}
}

func (fs *faultSet) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = nil
	fs.rewrites = nil
}

func (fs *faultSet) decide(route string, r *http.Request) effects {
	var eff effects
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.list {
		if f.Route != "" && f.Route != route {
			continue
		}
		if f.Match != nil && !f.Match(r) {
			continue
		}
		f.seen++
		if f.seen < f.Nth || (f.Times > 0 && f.seen >= f.Nth+f.Times) {
			continue
		}
		switch f.Kind {
		case FaultStatus:
			if eff.status == 0 {
				eff.status = f.Status
			}
		case FaultRateLimit:
			eff.rateLimit = true
		case FaultDelay:
			eff.delay += f.Delay
		case FaultRepeatCursor:
			eff.repeat = true
		case FaultEndlessPaging:
			eff.endless = true
		case FaultEmptyPage:
			eff.emptyPage = true
		case FaultDropNext:
			eff.dropNext = true
		case FaultDisconnect:
			eff.disconnect = true
		case FaultTruncateBody:
			eff.truncate = true
		}
	}
	return eff
}

// AddFault installs f and returns a function that removes it again.
func (s *Server) AddFault(f Fault) (remove func()) {
	id := s.faults.add(f)
	return func() { s.faults.remove(id) }
}

// ClearFaults removes every injected fault and item rewrite.
func (s *Server) ClearFaults() { s.faults.clear() }

// FailNth makes requests nth .. nth+times-1 to route (counted from now) fail
// with status (e.g. 500, 503); times < 0 fails every request from nth on.
func (s *Server) FailNth(route string, nth, times, status int) (remove func()) {
	return s.AddFault(Fault{Route: route, Kind: FaultStatus, Nth: nth, Times: times, Status: status})
}

// Storm429 answers the next k requests to route ("" = any route) with a
// concurrency-style 429 whose reset lies one second in the past.
func (s *Server) Storm429(route string, k int) (remove func()) {
	return s.AddFault(Fault{Route: route, Kind: FaultRateLimit, Times: k})
}

// SlowDown delays every request to route ("" = any route) by d.
func (s *Server) SlowDown(route string, d time.Duration) (remove func()) {
	return s.AddFault(Fault{Route: route, Kind: FaultDelay, Times: -1, Delay: d})
}

// RepeatCursorFrom makes the nth request to route, and every later one, link
// to itself as the next page: the listing repeats one cursor forever.
func (s *Server) RepeatCursorFrom(route string, nth int) (remove func()) {
	return s.AddFault(Fault{Route: route, Kind: FaultRepeatCursor, Nth: nth, Times: -1})
}

// EndlessPaging makes listings on route never end: the last page and every
// page after it carry a next link with a fresh cursor.
func (s *Server) EndlessPaging(route string) (remove func()) {
	return s.AddFault(Fault{Route: route, Kind: FaultEndlessPaging, Times: -1})
}

// EmptyPageAt answers the nth request to route with an empty page that links
// onward to the data the request would have returned.
func (s *Server) EmptyPageAt(route string, nth int) (remove func()) {
	return s.AddFault(Fault{Route: route, Kind: FaultEmptyPage, Nth: nth})
}

// DisconnectNth closes the connection without answering requests nth ..
// nth+times-1 to route (times < 0: every request from nth on).
func (s *Server) DisconnectNth(route string, nth, times int) (remove func()) {
	return s.AddFault(Fault{Route: route, Kind: FaultDisconnect, Nth: nth, Times: times})
}

// TruncateBodyNth cuts the body of responses nth .. nth+times-1 to route in
// half (times < 0: every response from nth on).
func (s *Server) TruncateBodyNth(route string, nth, times int) (remove func()) {
	return s.AddFault(Fault{Route: route, Kind: FaultTruncateBody, Nth: nth, Times: times})
}

// DropNextAt omits the next link from the nth response to route, silently
// truncating that listing.
func (s *Server) DropNextAt(route string, nth int) (remove func()) {
	return s.AddFault(Fault{Route: route, Kind: FaultDropNext, Nth: nth})
}

// ItemRewrite changes one item of a list response before it is served: it
// receives the item's JSON and returns the JSON to serve in its place (any
// bytes, also invalid or `null`). The listing's cursors and next links are
// computed from the original items, so paging is unchanged.
type ItemRewrite func(item []byte) []byte

type rewriteEntry struct {
	id    int
	route string
	fn    ItemRewrite
}

// RewriteItems makes every list response on route (one of the Route*
// constants; "" = every list route) serve fn(item) for each item, e.g. an app
// user without `_embedded.user`, a mistyped profile or a `null` item. It
// returns a function that removes the rewrite again. Rewrites installed on
// the same route apply in the order they were added.
func (s *Server) RewriteItems(route string, fn ItemRewrite) (remove func()) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.nextID++
	id := s.faults.nextID
	s.faults.rewrites = append(s.faults.rewrites, rewriteEntry{id: id, route: route, fn: fn})
	return func() {
		s.faults.mu.Lock()
		defer s.faults.mu.Unlock()
		s.faults.rewrites = slices.DeleteFunc(s.faults.rewrites, func(e rewriteEntry) bool { return e.id == id })
	}
}

// rewriter returns the composed item rewrite for route, nil when there is none.
func (fs *faultSet) rewriter(route string) ItemRewrite {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var fns []ItemRewrite
	for _, e := range fs.rewrites {
		if e.route == "" || e.route == route {
			fns = append(fns, e.fn)
		}
	}
	if len(fns) == 0 {
		return nil
	}
	return func(item []byte) []byte {
		for _, f := range fns {
			item = f(item)
		}
		return item
	}
}
