package clusters

import (
	"context"
	"fmt"
	"syscall"
)

// ExternalCluster is a cluster jetstorm did not start (backend: external):
// it can drive load against it and read its monitor endpoints, but not
// kill, pause or restart its nodes.
type ExternalCluster struct {
	nodes []Node
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
func (c *ExternalCluster) Close(ctx context.Context) error   { return nil }

type externalNode struct{ name, client, monitor string }

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
func (n *externalNode) ServerName() string              { return n.name }
func (n *externalNode) SetServerName(string) error      { return errExternal }
