package doctor

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// basePath is the path AxonFlow's SCIM Base URL ends with.
const basePath = "/scim/v2"

// checkURL checks the SCIM Base URL as Okta would take it. It sets r.base
// and r.parsed and returns false when no request can be built from it.
func (r *runner) checkURL() bool {
	raw := strings.TrimSpace(r.opts.URL)
	fixURL := func(u *url.URL) string {
		scheme := "https"
		p := u.Path
		if i := strings.Index(strings.ToLower(p), basePath); i >= 0 {
			p = p[:i]
		} else {
			p = ""
		}
		return scheme + "://" + u.Host + p + basePath
	}
	if raw != r.opts.URL {
		r.warn("base-url", "the SCIM Base URL has spaces around it", "enter the SCIM Base URL without spaces", nil)
	}
	if !strings.Contains(raw, "://") {
		u, err := url.Parse("https://" + raw)
		if err != nil || u.Host == "" {
			r.fail("base-url", fmt.Sprintf("%q is not a URL", raw), "enter the SCIM Base URL as https://YOUR_PORTAL_OR_ENTERPRISE_DOMAIN/scim/v2", nil)
			return false
		}
		r.fail("base-url", fmt.Sprintf("%q has no scheme; Okta needs the full URL", raw),
			"enter the SCIM Base URL as "+fixURL(u)+"; doctor tests it with https://", nil)
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		r.fail("base-url", fmt.Sprintf("%q is not an http(s) URL", raw), "enter the SCIM Base URL as https://YOUR_PORTAL_OR_ENTERPRISE_DOMAIN/scim/v2", nil)
		return false
	}
	if u.User != nil {
		r.fail("base-url", "the SCIM Base URL contains a user name or password (user@host)",
			"remove it: Okta authenticates with the Authorization header; enter "+fixURL(u), nil)
		u.User = nil
	}
	r.parsed = u
	r.base = strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "?")
	want := fixURL(u)
	p := u.Path
	lower := strings.ToLower(p)
	i := strings.Index(lower, basePath)
	switch {
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		r.fail("base-url", "the SCIM Base URL has a query string or fragment (?… or #…); Okta appends /Users and its own query to the base URL",
			"enter exactly "+want+", with nothing after /scim/v2", nil)
	case strings.HasSuffix(lower, basePath+"/"):
		r.fail("base-url", fmt.Sprintf("the SCIM Base URL ends with a slash, so Okta would request %s//Users", strings.TrimSuffix(r.base, "/")),
			"remove the trailing slash: enter exactly "+want, nil)
	case i >= 0 && !strings.HasSuffix(lower, basePath):
		r.fail("base-url", fmt.Sprintf("the SCIM Base URL has %q after /scim/v2, so Okta would request %s/Users", p[i+len(basePath):], r.base),
			"enter exactly "+want+": Okta adds /Users and /Groups itself", nil)
	case i < 0:
		r.warn("base-url", fmt.Sprintf("the SCIM Base URL path is %q, not …/scim/v2; AxonFlow serves SCIM at https://HOST/scim/v2 (other SCIM servers may differ)", orSlash(p)),
			"for AxonFlow, enter exactly "+want, nil)
	case p != u.EscapedPath() || strings.Contains(p, "//"):
		r.warn("base-url", fmt.Sprintf("the SCIM Base URL path %q has escaped characters or double slashes", u.EscapedPath()), "enter exactly "+want, nil)
	default:
		if _, ok := r.rep.Check("base-url"); !ok {
			r.pass("base-url", "the SCIM Base URL "+raw+" has the form Okta needs", nil)
		}
	}
	if u.Scheme == "http" {
		r.warn("https", "the SCIM Base URL uses http://; Okta requires HTTPS and will not send the token over plain HTTP (doctor tests it anyway)",
			"put a TLS-terminating proxy or load balancer in front of axonflow-sync serve, and enter "+fixURL(u)+" in Okta", nil)
	}
	r.checkHost(u)
	return true
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// checkHost flags host names Okta rejects or cannot reach.
func (r *runner) checkHost(u *url.URL) {
	host := u.Hostname()
	if strings.Contains(host, "_") {
		r.fail("hostname", fmt.Sprintf("the host name %s contains an underscore (_); Okta rejects such a SCIM Base URL", host),
			"use a host name without underscores, e.g. "+strings.ReplaceAll(host, "_", "-")+" (a DNS name for the same server, covered by its TLS certificate)", nil)
		return
	}
	ip := net.ParseIP(host)
	local := host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") ||
		(ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()))
	if local {
		r.warn("hostname", fmt.Sprintf("%s is a local or private address: Okta connects from its cloud over the internet and cannot reach it (fine for trying doctor locally)", host),
			"enter the public enterprise hostname of the tenant, e.g. https://YOUR_PORTAL_OR_ENTERPRISE_DOMAIN/scim/v2", nil)
		return
	}
	if ip != nil {
		r.warn("hostname", fmt.Sprintf("the SCIM Base URL uses the IP address %s; a TLS certificate from a public authority is issued for a host name", host),
			"enter the enterprise hostname of the tenant instead of the IP address", nil)
		return
	}
	r.pass("hostname", "the host name "+host+" is one Okta accepts", nil)
}

// checkAuthorization examines the Authorization value as typed in Okta. It
// sets r.auth to the value doctor sends on authenticated requests (the typed
// one, corrected when it is malformed) and returns the typed value when it
// differs from r.auth (so the caller can show what the server says to what
// Okta would send), plus the problem, its fix and its severity.
func (r *runner) checkAuthorization() (typed, problem, fix string, sev Severity) {
	v := r.opts.Authorization
	sev = SeverityOK
	var probs []string
	add := func(s string, sv Severity) {
		probs = append(probs, s)
		if sv == SeverityError || sev == SeverityOK {
			sev = sv
		}
	}
	if strings.ContainsAny(v, "\r\n") {
		add("contains a line break", SeverityError)
		v = strings.Join(strings.Fields(v), " ")
	}
	if t := strings.TrimSpace(v); t != v {
		add("has spaces before or after it", SeverityWarning)
		v = t
	}
	if u, ok := unquote(v); ok {
		add("is wrapped in quotes, which would be sent as part of the value", SeverityError)
		v = strings.TrimSpace(u)
	}
	fields := strings.Fields(v)
	switch {
	case len(fields) == 0:
		add("is empty", SeverityError)
	case len(fields) == 1 && strings.EqualFold(fields[0], "Bearer"):
		add(`is only the word "Bearer", without the token`, SeverityError)
		fields = nil
	case len(fields) == 1:
		add(`has no "Bearer " before the token: Okta sends the Authorization field exactly as entered, and it must be "Bearer <token>" (doctor added "Bearer " for its tests)`, SeverityWarning)
		fields = []string{"Bearer", fields[0]}
	case strings.EqualFold(fields[0], "Bearer") && strings.EqualFold(fields[1], "Bearer"):
		add(`has "Bearer" twice`, SeverityError)
		fields = append([]string{"Bearer"}, fields[2:]...)
	}
	r.auth = v
	switch {
	case len(fields) > 2:
		add("has more than one space-separated part after the scheme", SeverityError)
	case len(fields) == 2:
		if u, ok := unquote(fields[1]); ok {
			add("has the token wrapped in quotes", SeverityError)
			fields[1] = u
		}
		switch {
		case !strings.EqualFold(fields[0], "Bearer"):
			add(fmt.Sprintf("uses the scheme %q; AxonFlow (and most SCIM servers) expect \"Bearer\"", fields[0]), SeverityWarning)
		case fields[0] != "Bearer":
			add(fmt.Sprintf("starts with %q instead of \"Bearer\" (AxonFlow accepts any case; some servers do not)", fields[0]), SeverityWarning)
			fields[0] = "Bearer"
		}
		if len(probs) == 0 && v != fields[0]+" "+fields[1] {
			add(`has more than one space, or a tab, between "Bearer" and the token`, SeverityWarning)
		}
		r.auth = fields[0] + " " + fields[1]
	}
	if len(probs) == 0 {
		return "", "", "", SeverityOK
	}
	typed = r.opts.Authorization
	if typed == r.auth {
		typed = ""
	}
	fix = `in Okta (Provisioning → Integration → Authorization) enter the full value "Bearer scim_...": the word Bearer, one space, the token; Bearer only once, no quotes or spaces around it`
	return typed, "the Authorization value " + strings.Join(probs, "; "), fix, sev
}

// unquote strips one pair of matching quotes (", ' or typographic ones).
func unquote(s string) (string, bool) {
	if len(s) < 2 {
		return s, false
	}
	for _, q := range [][2]string{{`"`, `"`}, {"'", "'"}, {"“", "”"}, {"‘", "’"}, {"`", "`"}} {
		if strings.HasPrefix(s, q[0]) && strings.HasSuffix(s, q[1]) && len(s) >= len(q[0])+len(q[1]) {
			return s[len(q[0]) : len(s)-len(q[1])], true
		}
	}
	return s, false
}

// redactAuth shows an Authorization value without its secret.
func redactAuth(v string) string {
	f := strings.Fields(v)
	for i, s := range f {
		if !strings.EqualFold(s, "Bearer") {
			if len(s) > 11 {
				f[i] = s[:11] + "…"
			} else {
				f[i] = "…"
			}
		}
	}
	return strings.Join(f, " ")
}
