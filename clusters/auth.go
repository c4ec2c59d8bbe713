package clusters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

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
		if err != nil { // checked at load time; a file changed since fails the connect
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

// WatchLost returns an error once no node of c has answered for lost
// (default 60s): none took a TCP connection and sent a NATS INFO line,
// and none answered its monitor URL. It returns nil when ctx ends. An
// external cluster can vanish (a namespace deleted, a VPN down); without
// this, a run would wait out its load and drain against nothing.
func WatchLost(ctx context.Context, c Cluster, lost time.Duration) error {
	if lost <= 0 {
		lost = 60 * time.Second
	}
	last := time.Now()
	var why error
	tick := time.NewTicker(min(2*time.Second, lost/4))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := anyAnswers(ctx, c.Nodes()); err == nil {
			last = time.Now()
			continue
		} else {
			why = err
		}
		if ctx.Err() == nil && time.Since(last) >= lost {
			return fmt.Errorf("lost the cluster: no node answered for %s (cluster.lost_after); last error: %w", lost.Round(time.Second), why)
		}
	}
}

// anyAnswers is nil when some node answers (see WatchLost).
func anyAnswers(ctx context.Context, nodes []Node) error {
	var errs []error
	for _, n := range nodes {
		err := natsAnswers(ctx, n.ClientURL())
		if err != nil && n.MonitorURL() != "" {
			var v struct{}
			if GetJSON(ctx, n, "/varz", &v) == nil {
				err = nil
			}
		}
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", n.Name(), err))
	}
	return errors.Join(errs...)
}

// natsAnswers dials a client URL and reads the server's INFO line.
func natsAnswers(ctx context.Context, u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return err
	}
	host := p.Host
	if p.Port() == "" {
		host = net.JoinHostPort(p.Hostname(), "4222")
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	b := make([]byte, 5)
	if _, err := io.ReadFull(conn, b); err != nil {
		return fmt.Errorf("no INFO from %s: %w", host, err)
	}
	if string(b) != "INFO " {
		return fmt.Errorf("%s answered %q, not a NATS INFO line", host, b)
	}
	return nil
}
