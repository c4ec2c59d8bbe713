package clusters

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
)

// Auth is how jetstorm logs in to an external cluster. Files are named
// by path and read by the client library when it connects: their
// contents never pass through jetstorm's scenario, history or logs.
type Auth struct {
	Creds    string    `yaml:"creds,omitempty"` // a .creds file (user JWT and nkey seed)
	NKey     string    `yaml:"nkey,omitempty"`  // an nkey seed file
	User     string    `yaml:"user,omitempty"`
	Password string    `yaml:"password,omitempty"` // redacted in saved scenarios
	TLS      *TLSFiles `yaml:"tls,omitempty"`
}

// TLSFiles are the PEM files of a TLS client: the CA that signed the
// servers' certificates, and a client certificate and key when the
// servers verify clients.
type TLSFiles struct {
	CA   string `yaml:"ca,omitempty"`
	Cert string `yaml:"cert,omitempty"`
	Key  string `yaml:"key,omitempty"`
}

// Empty reports whether a has no credentials or TLS settings.
func (a Auth) Empty() bool { return a == Auth{} }

// Redacted is a with the password replaced, for saving.
func (a Auth) Redacted() Auth {
	if a.Password != "" {
		a.Password = "REDACTED"
	}
	return a
}

// Files lists the files a names by their scenario keys (cluster.creds,
// cluster.tls.ca, ...), for checking that each can be read.
func (a Auth) Files() map[string]string {
	m := map[string]string{"creds": a.Creds, "nkey": a.NKey}
	if a.TLS != nil {
		m["tls.ca"], m["tls.cert"], m["tls.key"] = a.TLS.CA, a.TLS.Cert, a.TLS.Key
	}
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

// Unreadable reports the files that cannot be read, by key. It is
// checked when a run starts, not when a scenario loads: a saved run's
// scenario.yaml loads (check, merge) where its files are not.
func (a Auth) Unreadable() map[string]error {
	bad := map[string]error{}
	for k, path := range a.Files() {
		f, err := os.Open(path)
		if err != nil {
			bad[k] = fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
			continue
		}
		f.Close()
	}
	return bad
}

// Check reports what cannot work, by key: a password without a user,
// half a client certificate, several ways to log in.
func (a Auth) Check() map[string]error {
	bad := map[string]error{}
	if a.Password != "" && a.User == "" {
		bad["password"] = errors.New("needs cluster.user")
	}
	if t := a.TLS; t != nil && (t.Cert == "") != (t.Key == "") {
		bad["tls"] = errors.New("give both cert and key (a client certificate), or neither")
	}
	ways := 0
	for _, set := range []bool{a.Creds != "", a.NKey != "", a.User != ""} {
		if set {
			ways++
		}
	}
	if ways > 1 {
		bad["creds"] = errors.New("give one of creds, nkey, user/password")
	}
	return bad
}

// Options are the client options that log in as a says.
func (a Auth) Options() []nats.Option {
	var o []nats.Option
	switch {
	case a.Creds != "":
		o = append(o, nats.UserCredentials(a.Creds))
	case a.NKey != "":
		opt, err := nats.NkeyOptionFromSeed(a.NKey)
		if err != nil { // checked when the run starts; a file changed since fails the connect
			opt = func(*nats.Options) error { return fmt.Errorf("nkey %s: %w", a.NKey, err) }
		}
		o = append(o, opt)
	case a.User != "":
		o = append(o, nats.UserInfo(a.User, a.Password))
	}
	if t := a.TLS; t != nil {
		if t.CA != "" {
			o = append(o, nats.RootCAs(t.CA))
		}
		if t.Cert != "" {
			o = append(o, nats.ClientCert(t.Cert, t.Key))
		}
		if t.CA == "" && t.Cert == "" {
			o = append(o, nats.Secure())
		}
	}
	return o
}

// The login options of the external clusters started in this process, by
// client URL: every client connection jetstorm opens goes through Connect,
// which finds them here, so workloads, drains and faults need not carry
// them.
var (
	authMu  sync.Mutex
	authFor = map[string][]nats.Option{}
)

func registerAuth(urls []string, o []nats.Option) {
	authMu.Lock()
	defer authMu.Unlock()
	for _, u := range urls {
		authFor[u] = o
	}
}

func unregisterAuth(urls []string) {
	authMu.Lock()
	defer authMu.Unlock()
	for _, u := range urls {
		delete(authFor, u)
	}
}

// Connect is nats.Connect with the login options of the cluster whose
// client URL comes first in urls (comma-separated), if it has any; opts
// come after them.
func Connect(urls string, opts ...nats.Option) (*nats.Conn, error) {
	first, _, _ := strings.Cut(urls, ",")
	authMu.Lock()
	o := authFor[strings.TrimSpace(first)]
	authMu.Unlock()
	return nats.Connect(urls, append(append([]nats.Option(nil), o...), opts...)...)
}
