package doctor

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http/httptest"
	"testing"
	"time"
)

// testCA is a throw-away certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// leaf issues a server certificate for names (host names or IPs).
func (ca *testCA) leaf(t *testing.T, notBefore, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tlsOurs serves our SCIM server over TLS with cert.
func tlsOurs(t *testing.T, o *ours, cert tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(o.srv.Config.Handler)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2"
}

func TestTLSCertificates(t *testing.T) {
	o := newOurs(t)
	o.seedUser(t)
	ca := newCA(t, "Test Root CA")
	now := time.Now()
	auth := "Bearer " + o.secret

	t.Run("valid", func(t *testing.T) {
		url := tlsOurs(t, o, ca.leaf(t, now.Add(-time.Hour), now.Add(90*24*time.Hour), "127.0.0.1"))
		rep := run(t, Options{URL: url, Authorization: auth, rootCAs: ca.pool()})
		want(t, rep, "connection", SeverityOK, "TLS 1.3", "valid until")
		if _, ok := rep.Check("https"); ok {
			t.Error("an https URL got the https warning")
		}
		wantOK(t, rep, true)
	})
	t.Run("expiring soon", func(t *testing.T) {
		url := tlsOurs(t, o, ca.leaf(t, now.Add(-time.Hour), now.Add(5*24*time.Hour), "127.0.0.1"))
		rep := run(t, Options{URL: url, Authorization: auth, rootCAs: ca.pool()})
		want(t, rep, "connection", SeverityWarning, "in 4 days", "renew the certificate")
		wantOK(t, rep, true)
	})
	t.Run("expired", func(t *testing.T) {
		url := tlsOurs(t, o, ca.leaf(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour), "127.0.0.1"))
		rep := run(t, Options{URL: url, Authorization: auth, rootCAs: ca.pool()})
		want(t, rep, "connection", SeverityError, "expired on "+now.Add(-24*time.Hour).UTC().Format(time.DateOnly), "renew")
		wantOK(t, rep, false)
	})
	t.Run("hostname mismatch", func(t *testing.T) {
		url := tlsOurs(t, o, ca.leaf(t, now.Add(-time.Hour), now.Add(24*time.Hour), "scim.other.example"))
		rep := run(t, Options{URL: url, Authorization: auth, rootCAs: ca.pool()})
		want(t, rep, "connection", SeverityError, "issued for scim.other.example, not for 127.0.0.1 (hostname mismatch)")
		wantOK(t, rep, false)
	})
	t.Run("unknown authority", func(t *testing.T) {
		other := newCA(t, "Private CA")
		url := tlsOurs(t, o, other.leaf(t, now.Add(-time.Hour), now.Add(24*time.Hour), "127.0.0.1"))
		rep := run(t, Options{URL: url, Authorization: auth, rootCAs: ca.pool()})
		want(t, rep, "connection", SeverityError, `issued by "Private CA"`, "intermediate", "full chain")
		wantOK(t, rep, false)
	})
	t.Run("plain HTTP on an https URL", func(t *testing.T) {
		rep := run(t, Options{URL: "https://" + o.srv.Listener.Addr().String() + "/scim/v2", Authorization: auth})
		want(t, rep, "connection", SeverityError, "does not speak TLS")
		wantOK(t, rep, false)
	})
}
