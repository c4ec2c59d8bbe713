package clusters

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ExternalCluster is a cluster jetstorm did not start (backend: external):
// it can drive load against it and read its monitor endpoints, but not
// kill, pause or restart its nodes.
type ExternalCluster struct {
	nodes []Node
	urls  []string // whose login options Connect knows until Close
}

// NewExternal describes a running cluster by its client URLs and (same
// order, optional) monitor URLs.
func NewExternal(clientURLs, monitorURLs []string) (*ExternalCluster, error) {
	if len(clientURLs) == 0 {
		return nil, fmt.Errorf("external cluster: no client URLs")
	}
	if len(monitorURLs) != 0 && len(monitorURLs) != len(clientURLs) {
		return nil, fmt.Errorf("external cluster: %d client URLs but %d monitor URLs", len(clientURLs), len(monitorURLs))
	}
	c := &ExternalCluster{}
	for i, u := range clientURLs {
		n := &externalNode{name: NodeNames("external", len(clientURLs))[i], client: u}
		if len(monitorURLs) > 0 {
			n.monitor = monitorURLs[i]
		}
		c.nodes = append(c.nodes, n)
	}
	return c, nil
}

// startExternal describes the external cluster and probes it before the
// run: every client URL must take a connection (with the credentials it
// carries) and have JetStream. What fails is a *SpecError (the scenario
// names a cluster that cannot serve it: exit 3), naming the URL with
// any password redacted.
func startExternal(ctx context.Context, cfg Config) (Cluster, error) {
	c, err := NewExternal(cfg.URLs, cfg.MonitorURLs)
	if err != nil {
		return nil, &SpecError{err}
	}
	c.urls = cfg.URLs
	registerAuth(c.urls, cfg.Auth.Options())
	for _, n := range c.nodes {
		name, err := probeExternal(ctx, n.ClientURL())
		if err != nil {
			c.Close(ctx)
			return nil, &SpecError{fmt.Errorf("cluster.urls: %s: %w", RedactURL(n.ClientURL()), err)}
		}
		// The server's own name (nats-0 in a StatefulSet): what its
		// reports (stream leaders, peers) call the node.
		n.(*externalNode).server = name
	}
	return c, nil
}

// probeExternal connects to u and asks for its JetStream account info;
// it returns the server's name.
func probeExternal(ctx context.Context, u string) (string, error) {
	nc, err := Connect(u, nats.Timeout(5*time.Second), nats.MaxReconnects(0), nats.NoReconnect())
	if err != nil {
		switch {
		case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked),
			strings.Contains(strings.ToLower(err.Error()), "authorization"):
			return "", fmt.Errorf("the credentials were refused: %w", err)
		}
		return "", fmt.Errorf("cannot connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return "", err
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(actx); err != nil {
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) ||
			errors.Is(err, nats.ErrNoResponders) {
			return "", fmt.Errorf("no JetStream there (the server or this account has it off): %w", err)
		}
		return "", fmt.Errorf("JetStream does not answer: %w", err)
	}
	return nc.ConnectedServerName(), nil
}

// RedactURL replaces the password (or token) in u's user info with
// "REDACTED", so a URL can be logged.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	if _, has := p.User.Password(); has {
		p.User = url.UserPassword(p.User.Username(), "REDACTED")
	} else {
		p.User = url.User("REDACTED") // a token
	}
	return p.String()
}

func (c *ExternalCluster) Name() string { return "external" }

func (c *ExternalCluster) Nodes() []Node { return c.nodes }

// WaitHealthy checks /healthz when monitor URLs were given; otherwise it
// trusts the cluster.
func (c *ExternalCluster) WaitHealthy(ctx context.Context) error {
	if c.nodes[0].MonitorURL() == "" {
		return nil
	}
	return WaitHealthy(ctx, c.nodes)
}

func (c *ExternalCluster) Recover(ctx context.Context) error { return nil }
func (c *ExternalCluster) Close(ctx context.Context) error {
	unregisterAuth(c.urls)
	return nil
}

type externalNode struct{ name, client, monitor, server string }

var errExternal = fmt.Errorf("not possible on an external cluster")

func (n *externalNode) Name() string                    { return n.name }
func (n *externalNode) ClientURL() string               { return n.client }
func (n *externalNode) MonitorURL() string              { return n.monitor }
func (n *externalNode) Dir() string                     { return "" }
func (n *externalNode) LogPath() string                 { return "" }
func (n *externalNode) Running() bool                   { return true }
func (n *externalNode) Pid() int                        { return 0 }
func (n *externalNode) Start(ctx context.Context) error { return nil }
func (n *externalNode) Kill() error                     { return errExternal }
func (n *externalNode) Stop(ctx context.Context) error  { return errExternal }
func (n *externalNode) Signal(syscall.Signal) error     { return errExternal }
func (n *externalNode) Pause() error                    { return errExternal }
func (n *externalNode) Resume() error                   { return errExternal }
func (n *externalNode) Paused() bool                    { return false }
func (n *externalNode) SetSyncInterval(string) error    { return errExternal }
func (n *externalNode) SetServerBinary(string) error    { return errExternal }
func (n *externalNode) Store() Store                    { return nil }
func (n *externalNode) ServerName() string {
	if n.server != "" {
		return n.server
	}
	return n.name
}
func (n *externalNode) SetServerName(string) error { return errExternal }
