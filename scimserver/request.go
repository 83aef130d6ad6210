package scimserver

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/axonflow/axonflow-sync/mapping"
)

// readBody reads a JSON request body of at most maxBody bytes. It accepts
// application/scim+json, application/json (any +json or json media type) and
// a missing Content-Type; other media types are 415.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || mt == ContentType || strings.HasSuffix(mt, "+json")) {
			return nil, &mapping.Error{Status: 415, Detail: "Content-Type " + ct + " is not supported; send application/scim+json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return nil, err
		}
		return nil, &mapping.Error{Status: 400, ScimType: mapping.ScimInvalidSyntax, Detail: "reading the request body failed: " + err.Error()}
	}
	if len(body) == 0 {
		return nil, &mapping.Error{Status: 400, ScimType: mapping.ScimInvalidSyntax, Detail: "request body is empty"}
	}
	return body, nil
}

// listParams are the query parameters of a list request (RFC 7644 §3.4.2).
type listParams struct {
	filter     string
	startIndex int // 1-based, >= 1
	count      int // 0..DefaultMaxResults
	proj       mapping.Projection
}

// parseList reads filter, startIndex, count, attributes and
// excludedAttributes. startIndex < 1 is 1; a negative count is 0; count
// above maxResults is capped (RFC 7644 §3.4.2.4); non-integers are 400
// invalidValue.
func parseList(rt *mapping.ResourceType, q url.Values) (listParams, error) {
	p := listParams{startIndex: 1, count: DefaultPageSize, filter: q.Get("filter")}
	if v := q.Get("startIndex"); v != "" {
		n, err := atoiClamped(v)
		if err != nil {
			return p, &mapping.Error{Status: 400, ScimType: mapping.ScimInvalidValue, Detail: "startIndex must be an integer"}
		}
		if n > 1 {
			p.startIndex = n
		}
	}
	if v := q.Get("count"); v != "" {
		n, err := atoiClamped(v)
		if err != nil {
			return p, &mapping.Error{Status: 400, ScimType: mapping.ScimInvalidValue, Detail: "count must be an integer"}
		}
		p.count = max(0, min(n, DefaultMaxResults))
	}
	proj, err := mapping.ParseProjection(rt, q.Get("attributes"), q.Get("excludedAttributes"))
	if err != nil {
		return p, err
	}
	p.proj = proj
	return p, nil
}

// projectionOf parses attributes/excludedAttributes of a single-resource request.
func projectionOf(rt *mapping.ResourceType, r *http.Request) (mapping.Projection, error) {
	if r.URL.RawQuery == "" {
		return mapping.Projection{}, nil
	}
	q := r.URL.Query()
	return mapping.ParseProjection(rt, q.Get("attributes"), q.Get("excludedAttributes"))
}

// maxStartIndex bounds startIndex so that offsets never overflow; it is far
// past any tenant's size (a larger value means "past the end" all the same).
const maxStartIndex = 1 << 40

// atoiClamped parses a decimal integer; values too large or too small for
// an int (e.g. count=99999999999999999999) are clamped instead of refused,
// since they are integers all the same. Non-integers are an error.
func atoiClamped(v string) (int, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		if strings.HasPrefix(v, "-") {
			return -1, nil
		}
		return maxStartIndex, nil
	}
	if err != nil {
		return 0, err
	}
	return int(max(-1, min(n, maxStartIndex))), nil
}
