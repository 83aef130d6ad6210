package scimserver

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// ContentType is the media type of every response body (RFC 7644 §3.1).
const ContentType = "application/scim+json"

// contentType is the Content-Type header value of every body, shared by
// all responses (one allocation less each): nothing modifies a header
// value in place, and net/http copies the header before writing it.
var contentType = []string{ContentType}

// writeError writes an RFC 7644 §3.12 error body with status as a string.
// Like writeJSON, it sends a Content-Length and does not escape HTML
// characters.
func writeError(w http.ResponseWriter, status int, scimType, detail string) {
	body := map[string]any{"schemas": []any{mapping.SchemaError}, "status": strconv.Itoa(status)}
	if scimType != "" {
		body["scimType"] = scimType
	}
	if detail != "" {
		body["detail"] = detail
	}
	b, _ := mapping.AppendJSON(make([]byte, 0, 256), body) // strings only: cannot fail
	b = append(b, '\n')
	h := w.Header()
	h.Del("ETag")
	h.Del("Location")
	h["Content-Type"] = contentType
	setHeader(w, "Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// fail renders err as a SCIM error: the status and scimType of its code
// (mapping.SCIMStatus: a *mapping.Error its own; a store outage or a
// context deadline 503 with Retry-After; anything else 500, logged with the
// request id), the detail of scimDetail; a body over the size limit is 413.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	rc := getReqCtx(r)
	status, scimType := mapping.SCIMStatus(err)
	detail := scimDetail(err, rc.id)
	var me *mapping.Error
	var mbe *http.MaxBytesError
	if mapping.ErrorCode(err) == mapping.CodeInternal && !errors.As(err, &me) && errors.As(err, &mbe) {
		status, scimType, detail = 413, "", "request body is larger than "+strconv.FormatInt(mbe.Limit, 10)+" bytes"
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if status >= 500 {
		s.log.Error().Err(err).Str("request_id", rc.id).Str("tenant", rc.tenant).Msg("scim request failed")
	}
	rc.ev.ScimType, rc.ev.Detail = scimType, detail
	writeError(w, status, scimType, detail)
}

// scimDetails is the SCIM detail of each error code whose errors carry no
// client-facing detail of their own (see scimDetail).
var scimDetails = map[string]string{
	mapping.CodeNotFound:         "resource not found",
	mapping.CodeConcurrentChange: "the resource changed concurrently; retry the request",
	mapping.CodeUnavailable:      "the directory store is unavailable; retry later",
	mapping.CodeInternal:         "internal error; see the server log for request id ",
}

// scimDetail is the detail of a SCIM error for err: a *mapping.Error's
// Detail; the taken value of a *store.ConflictError; the unknown ids of a
// *store.UnknownMembersError (at most 10); else the detail of err's code
// (scimDetails; the request id reqID appended for an internal error).
func scimDetail(err error, reqID string) string {
	var me *mapping.Error
	var ce *store.ConflictError
	var ue *store.UnknownMembersError
	switch {
	case errors.As(err, &me):
		return me.Detail
	case errors.As(err, &ce):
		return ce.Attr + " \"" + ce.Value + "\" is already in use in this tenant"
	case errors.As(err, &ue):
		ids := ue.IDs
		more := ""
		if len(ids) > 10 {
			ids, more = ids[:10], " and more"
		}
		return "no user with id " + strings.Join(ids, ", ") + more + " in this tenant; nothing was changed"
	}
	code := mapping.ErrorCode(err)
	d, ok := scimDetails[code]
	switch {
	case !ok:
		return mapping.ErrorMessage(err)
	case code == mapping.CodeInternal:
		return d + reqID
	}
	return d
}

// failStatus renders a SCIM error with an explicit status.
func (s *Server) failStatus(w http.ResponseWriter, r *http.Request, status int, scimType, detail string) {
	rc := getReqCtx(r)
	rc.ev.ScimType, rc.ev.Detail = scimType, detail
	writeError(w, status, scimType, detail)
}

// bodyPool holds response buffers; buffers that grew beyond maxPooledBody
// (a large page of users) are left to the garbage collector.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

const maxPooledBody = 1 << 20

// writeJSON writes a 2xx SCIM JSON body with its Content-Length, encoded by
// mapping.AppendJSON (encoding/json's bytes, followed by a newline as
// json.Encoder writes). A value that cannot be encoded (a NaN in the
// model: a bug, never client input) becomes a 500 SCIM error instead.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeEncoded(w, status, func(b []byte) ([]byte, error) { return mapping.AppendJSON(b, v) })
}

// writeUserJSON is writeJSON of the user resource of u with its groups
// and roles (renderWith's map for u, no projection), encoded by
// mapping.AppendUserResource without building the map.
func writeUserJSON(w http.ResponseWriter, status int, u *mapping.User, base string, groups []mapping.Ref, roles []mapping.RoleAssignment) {
	writeEncoded(w, status, func(b []byte) ([]byte, error) { return mapping.AppendUserResource(b, u, base, groups, roles) })
}

// writeEncoded writes the body enc appends to a pooled buffer, as
// writeJSON describes.
func writeEncoded(w http.ResponseWriter, status int, enc func([]byte) ([]byte, error)) {
	bp := bodyPool.Get().(*[]byte)
	b, err := enc((*bp)[:0])
	if err != nil {
		bodyPool.Put(bp)
		writeError(w, http.StatusInternalServerError, "", "internal error: the response could not be encoded")
		return
	}
	b = append(b, '\n')
	h := w.Header()
	h["Content-Type"] = contentType
	setHeader(w, "Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	if cap(b) <= maxPooledBody {
		*bp = b[:0]
		bodyPool.Put(bp)
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.failStatus(w, r, 404, "", "no SCIM endpoint at "+echo(r.URL.Path)+"; resources are "+BasePath+"/Users and "+BasePath+"/Groups")
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	m := r.Method
	if MethodLabel(m) == "other" {
		m = "this method"
	}
	s.failStatus(w, r, 405, "", m+" is not supported on "+echo(r.URL.Path)+" (allowed: "+allow+")")
}

// maxEcho bounds how much of a client's own text (a path) an error detail
// repeats: details reach the response, the request log and the
// provisioning log, and an unauthenticated client must not make any of
// them large.
const maxEcho = 200

// echo returns s cut to maxEcho bytes (at a rune boundary, marked "…").
func echo(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	i := maxEcho
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
