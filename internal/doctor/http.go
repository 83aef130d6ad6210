package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// maxBody caps how much of a response doctor reads.
const maxBody = 4 << 20

func (r *runner) newClient() *http.Client {
	dialer := &net.Dialer{Timeout: r.opts.Timeout, KeepAlive: 30 * time.Second}
	dial := dialer.DialContext
	if r.opts.dial != nil {
		dial = r.opts.dial
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dial,
		TLSClientConfig:     &tls.Config{RootCAs: r.opts.rootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: r.opts.Timeout,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     30 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		// Report redirects instead of following them: the SCIM Base URL must
		// be the URL that answers.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// response is one request and what came back.
type response struct {
	method, path string // path relative to the base URL, e.g. "/Users?count=1"
	status       int
	header       http.Header
	body         []byte
	contentType  string // media type without parameters
	doc          any    // parsed JSON body (numbers as json.Number), nil if none
	jsonErr      error  // why the body is not JSON (nil if it is, or is empty)
	tls          *tls.ConnectionState
	dur          time.Duration
	err          error // transport error: no response
}

func (res *response) statusCode() int {
	if res == nil {
		return 0
	}
	return res.status
}

func (res *response) ms() int64 {
	if res == nil {
		return 0
	}
	return res.dur.Milliseconds()
}

// what names the request for messages: "GET /Users?count=1".
func (res *response) what() string { return res.method + " " + res.path }

// requestID returns the server's request id, if it sent one.
func (res *response) requestID() string {
	for _, h := range []string{"X-Request-Id", "X-Request-ID", "X-Correlation-Id", "X-Amzn-Requestid"} {
		if v := res.header.Get(h); v != "" {
			return v
		}
	}
	return ""
}

// reqOpts varies a request from Okta's defaults.
type reqOpts struct {
	auth        *string // nil: the runner's Authorization value; "" sends none
	contentType string  // default OktaContentType
	expectError bool    // a 4xx/5xx is the expected answer (its Content-Type is checked too)
}

// do sends one request the way Okta does and reads the answer.
func (r *runner) do(ctx context.Context, method, path string, body any, o reqOpts) *response {
	res := &response{method: method, path: path}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			res.err = err
			return res
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		res.err = err
		return res
	}
	req.Header.Set("User-Agent", OktaUserAgent)
	req.Header.Set("Accept", OktaAccept)
	if body != nil {
		ct := o.contentType
		if ct == "" {
			ct = OktaContentType
		}
		req.Header.Set("Content-Type", ct)
	}
	auth := r.auth
	if o.auth != nil {
		auth = *o.auth
	}
	if auth != "" {
		req.Header["Authorization"] = []string{auth}
	}
	start := time.Now()
	hr, err := r.client.Do(req)
	if err != nil {
		res.dur = time.Since(start)
		res.err = err
		return res
	}
	defer hr.Body.Close()
	res.body, err = io.ReadAll(io.LimitReader(hr.Body, maxBody))
	res.dur = time.Since(start)
	if err != nil {
		res.err = fmt.Errorf("reading the response: %w", err)
		return res
	}
	res.status, res.header, res.tls = hr.StatusCode, hr.Header, hr.TLS
	if mt, _, err := mime.ParseMediaType(hr.Header.Get("Content-Type")); err == nil {
		res.contentType = strings.ToLower(mt)
	}
	if len(bytes.TrimSpace(res.body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(res.body))
		dec.UseNumber()
		if err := dec.Decode(&res.doc); err != nil {
			res.doc, res.jsonErr = nil, err
		}
		if (res.status < 300 || (o.expectError && res.status >= 400)) && !okContentType(res.contentType) {
			ct := hr.Header.Get("Content-Type")
			if ct == "" {
				ct = "none"
			}
			r.badCT = append(r.badCT, fmt.Sprintf("%s → %s", res.what(), ct))
		}
	}
	return res
}

// okContentType reports whether Okta accepts a response media type.
func okContentType(mt string) bool {
	return mt == "application/scim+json" || mt == "application/json"
}

// bodySnippet returns the start of a body for messages.
func bodySnippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	if s == "" {
		return "an empty body"
	}
	return fmt.Sprintf("%q", s)
}

// transportDiagnosis explains a request that got no HTTP response.
func (r *runner) transportDiagnosis(err error) (detail, fix string) {
	host := r.parsed.Hostname()
	hostport := r.parsed.Host
	if r.parsed.Port() == "" {
		if r.parsed.Scheme == "https" {
			hostport += ":443"
		} else {
			hostport += ":80"
		}
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var uaErr x509.UnknownAuthorityError
	var invErr x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted before the server answered", "run doctor again"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("DNS: the host name %s does not exist (no DNS record)", host),
				"check the enterprise hostname in the SCIM Base URL: it must be the real portal or enterprise domain of the tenant, and resolve on the public internet (Okta connects from its cloud)"
		}
		if dnsErr.IsTimeout {
			return fmt.Sprintf("DNS: looking up %s timed out", host),
				"check this machine's DNS, then the hostname in the SCIM Base URL"
		}
		return fmt.Sprintf("DNS: looking up %s failed: %v", host, dnsErr.Err),
			"check the enterprise hostname in the SCIM Base URL and its DNS records"
	case errors.As(err, &certErr) || errors.As(err, &hostErr) || errors.As(err, &uaErr) || errors.As(err, &invErr):
		var leaf *x509.Certificate
		if certErr != nil && len(certErr.UnverifiedCertificates) > 0 {
			leaf = certErr.UnverifiedCertificates[0]
		} else if hostErr.Certificate != nil {
			leaf = hostErr.Certificate
		} else if invErr.Cert != nil {
			leaf = invErr.Cert
		} else if uaErr.Cert != nil {
			leaf = uaErr.Cert
		}
		return r.certDiagnosis(err, leaf, host)
	case errors.As(err, &recErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Sprintf("TLS: %s does not speak TLS (HTTPS); it answered like a plain-HTTP server", hostport),
			"put the TLS-terminating proxy or load balancer on this port, or use the port it listens on; Okta requires HTTPS"
	case strings.Contains(err.Error(), "tls: "):
		return fmt.Sprintf("TLS: the handshake with %s failed (%v)", hostport, err),
			"check the TLS configuration of the proxy or load balancer: it must accept TLS 1.2 or 1.3 and serve a certificate for " + host
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection refused: nothing listens on %s", hostport),
			"start axonflow-sync serve (or the TLS proxy or load balancer in front of it) and check the port in the SCIM Base URL; Okta connects to port 443 unless the URL names another"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("the connection to %s was closed without an answer (%v)", hostport, err),
			"check that the proxy or load balancer forwards to axonflow-sync serve, and that the port speaks the scheme of the URL (https:// needs TLS)"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("%s is unreachable from here (%v)", hostport, err),
			"check the hostname, firewalls and routing; Okta must reach it from the internet"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return fmt.Sprintf("no answer from %s within %s", hostport, r.opts.Timeout),
			"check firewalls and that the server is up; Okta gives up after 60 s without an answer, and a healthy server answers in well under a second"
	}
	return fmt.Sprintf("request failed: %v", err), "check the SCIM Base URL and that the server is reachable"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// certDiagnosis says which certificate problems the server's certificate
// has: self-signed, unknown issuer, expired or not yet valid, wrong host.
func (r *runner) certDiagnosis(err error, leaf *x509.Certificate, host string) (string, string) {
	if leaf == nil {
		return "TLS: the server's certificate is not trusted: " + err.Error(),
			"serve a certificate for " + host + " from a public certificate authority (e.g. Let's Encrypt), with its full chain"
	}
	now := r.opts.now()
	var probs, fixes []string
	if now.After(leaf.NotAfter) {
		probs = append(probs, "expired on "+leaf.NotAfter.UTC().Format(time.DateOnly))
		fixes = append(fixes, "renew it")
	} else if now.Before(leaf.NotBefore) {
		probs = append(probs, "not valid before "+leaf.NotBefore.UTC().Format(time.RFC3339)+" (check the clock)")
	}
	if leaf.VerifyHostname(host) != nil {
		names := certNames(leaf)
		probs = append(probs, fmt.Sprintf("issued for %s, not for %s (hostname mismatch)", names, host))
		fixes = append(fixes, "get one that covers "+host+", or use a hostname the certificate covers in the SCIM Base URL")
	}
	var uaErr x509.UnknownAuthorityError
	selfSigned := bytes.Equal(leaf.RawIssuer, leaf.RawSubject) && leaf.CheckSignatureFrom(leaf) == nil
	switch {
	case selfSigned:
		probs = append(probs, "self-signed (Okta trusts only certificates from public certificate authorities)")
		fixes = append(fixes, "replace it with one from a public certificate authority (e.g. Let's Encrypt) on the TLS proxy or load balancer")
	case errors.As(err, &uaErr):
		probs = append(probs, fmt.Sprintf("issued by %q, which is not a trusted public authority, or the server does not send the intermediate certificates", leaf.Issuer.CommonName))
		fixes = append(fixes, "use a certificate from a public certificate authority and serve the full chain (leaf plus intermediates)")
	}
	if len(probs) == 0 {
		return "TLS: the server's certificate is not trusted: " + err.Error(),
			"serve a certificate for " + host + " from a public certificate authority, with its full chain"
	}
	fix := "check the clock of the server and of this machine"
	if len(fixes) > 0 {
		fix = strings.Join(fixes, "; ")
	}
	return "TLS: the certificate of " + host + " is " + strings.Join(probs, "; "), "Certificate: " + fix + "."
}

func certNames(c *x509.Certificate) string {
	var n []string
	n = append(n, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		n = append(n, ip.String())
	}
	if len(n) == 0 && c.Subject.CommonName != "" {
		n = append(n, c.Subject.CommonName)
	}
	if len(n) == 0 {
		return "no host name"
	}
	return strings.Join(n, ", ")
}
