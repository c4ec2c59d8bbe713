package scenarios

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"jetstorm/internal/natstest"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// issue makes a certificate for cn signed by ca (self-signed, a CA, when
// ca is nil), with the given usage and IP addresses, and returns it and
// its key as PEM.
func issue(t *testing.T, ca *testCA, cn string, isCA bool, usage x509.ExtKeyUsage, ips ...net.IP) (cert *x509.Certificate, key *ecdsa.PrivateKey, certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		IPAddresses:  ips,
	}
	parent, signer := tmpl, key
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	}
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// pemBody is the base64 text of a PEM block: its lines between the
// BEGIN and END lines (but a short last one).
func pemBody(p []byte) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		if !strings.HasPrefix(l, "-----") && len(l) >= 16 {
			lines = append(lines, l)
		}
	}
	return lines
}

// A TLS server takes a run that gives its CA (tls: {ca}) and, when it
// verifies clients, a client certificate (tls: {ca, cert, key}); the
// client key is nowhere in the run directory or the log, and
// scenario.yaml keeps the files' paths.
func TestExternalTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real servers; skipped with -short")
	}
	caCert, caKey, caPEM, _ := issue(t, nil, "jetstorm test CA", true, 0)
	ca := &testCA{cert: caCert, key: caKey}
	_, _, srvPEM, srvKeyPEM := issue(t, ca, "127.0.0.1", false, x509.ExtKeyUsageServerAuth, net.ParseIP("127.0.0.1"))
	_, _, cliPEM, cliKeyPEM := issue(t, ca, "jetstorm", false, x509.ExtKeyUsageClientAuth)
	caFile := writeSecretFile(t, "ca.pem", string(caPEM))
	cliFile, cliKeyFile := writeSecretFile(t, "client.pem", string(cliPEM)), writeSecretFile(t, "client-key.pem", string(cliKeyPEM))
	srvFile, srvKeyFile := writeSecretFile(t, "server.pem", string(srvPEM)), writeSecretFile(t, "server-key.pem", string(srvKeyPEM))
	body := pemBody(cliKeyPEM)
	secrets := append([]string{strings.Join(body, "")}, body...)

	for _, verify := range []bool{true, false} {
		name, tlsKeys := "client cert", "{ca: '"+caFile+"', cert: '"+cliFile+"', key: '"+cliKeyFile+"'}"
		if !verify {
			name, tlsKeys = "ca only", "{ca: '"+caFile+"'}"
		}
		t.Run(name, func(t *testing.T) {
			tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: srvFile, KeyFile: srvKeyFile, CaFile: caFile, Verify: verify})
			if err != nil {
				t.Fatal(err)
			}
			s := natstest.Run(t, server.Options{JetStream: true, TLS: true, TLSVerify: verify, TLSConfig: tc, TLSTimeout: 5})
			url := strings.Replace(s.ClientURL(), "nats://", "tls://", 1)
			if !strings.HasPrefix(url, "tls://127.0.0.1:") {
				t.Fatalf("client URL %s", url)
			}
			saved := runNoSecrets(t, "name: secrets-tls\ncluster: {backend: external, urls: ['"+url+"'], tls: "+tlsKeys+"}\n"+
				secretsWorkload, secrets...)
			tls, _ := savedCluster(t, saved)["tls"].(map[string]any)
			want := map[string]any{"ca": caFile}
			if verify {
				want["cert"], want["key"] = cliFile, cliKeyFile
			}
			if len(tls) != len(want) || tls["ca"] != want["ca"] || tls["cert"] != want["cert"] || tls["key"] != want["key"] {
				t.Errorf("scenario.yaml cluster tls %v, want %v", tls, want)
			}
		})
	}
}
