package clusters

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// NATS Streaming (STAN; nats-streaming-server, end of life since 2023) as
// the system a process cluster runs (cluster.system: stan): each node is a
// nats-streaming-server with its own embedded NATS server, those routed to
// each other as nats-server nodes are (link proxies included), and the
// streaming servers clustered with Raft over NATS. Its binary is built
// from the Go module proxy like a nats-server release; it cannot share a
// module build with jetstorm's nats-server.

// STANDefaultVersion is the nats-streaming-server release run by default:
// the last one.
const STANDefaultVersion = "v0.25.6"

// STANClusterID is the streaming cluster id every node and client uses.
const STANClusterID = "jetstorm"

// STANOptions are the streaming server's durability and Raft settings.
type STANOptions struct {
	// FileSync: fsync the file store on every flush (file_options.sync;
	// the server's default is true, the opposite of JetStream's).
	FileSync bool
	// ClusterSync: fsync the Raft log and the store after every write
	// (cluster.sync; default false).
	ClusterSync bool
	// Raft timeouts; 0: the server's defaults.
	RaftHeartbeat, RaftElection, RaftLease, RaftCommit time.Duration
}

var stanVersionRE = regexp.MustCompile(`^v?0\.\d+\.\d+$`)

// STANBinary resolves a nats-streaming-server spec: "" (the default
// release), a version (v0.25.6), or a path to a binary. A version is built
// once with go install and kept in the user cache dir.
func STANBinary(ctx context.Context, spec string, logf func(format string, args ...any)) (string, error) {
	switch {
	case spec == "":
		spec = STANDefaultVersion
	case strings.Contains(spec, "/"):
		return binaryAt(spec, "nats-streaming-server")
	case !stanVersionRE.MatchString(spec):
		return "", &SpecError{fmt.Errorf("%q is not a nats-streaming-server version (e.g. %s) or a path to its binary", spec, STANDefaultVersion)}
	}
	return goInstall(ctx, "github.com/nats-io/nats-streaming-server", "nats-streaming-server", "v"+strings.TrimPrefix(spec, "v"), logf)
}

// renderStreaming writes a node's streaming block: file store and Raft
// log under the node's store dir (so powerfs and the store faults reach
// both), clustered with peers unless the cluster is one node.
func (nc NodeConfig) renderStreaming(b *strings.Builder) {
	o := nc.Streaming
	fmt.Fprintf(b, "streaming {\n  id: %s\n  store: file\n  dir: %q\n", STANClusterID, filepath.Join(nc.StoreDir, "data"))
	fmt.Fprintf(b, "  file_options {\n    sync_on_flush: %t\n  }\n", o.FileSync)
	// No limits: by default a channel keeps 1,000,000 messages or about
	// 1 GB and silently drops the oldest, which would read as lost acks.
	fmt.Fprintf(b, "  store_limits {\n    max_msgs: 0\n    max_bytes: 0\n    max_age: \"0s\"\n  }\n")
	if len(nc.Peers) > 0 {
		fmt.Fprintf(b, "  cluster {\n    node_id: %q\n    peers: [%s]\n    log_path: %q\n    sync: %t\n",
			nc.Name, quoteAll(nc.Peers), filepath.Join(nc.StoreDir, "raft"), o.ClusterSync)
		for k, d := range map[string]time.Duration{"raft_heartbeat_timeout": o.RaftHeartbeat, "raft_election_timeout": o.RaftElection,
			"raft_lease_timeout": o.RaftLease, "raft_commit_timeout": o.RaftCommit} {
			if d > 0 {
				fmt.Fprintf(b, "    %s: %q\n", k, d.String())
			}
		}
		fmt.Fprintf(b, "  }\n")
	}
	fmt.Fprintf(b, "}\n")
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// stanServerz is what /streaming/serverz says of a node's role.
type stanServerz struct {
	State  string `json:"state"`
	Role   string `json:"role"`
	NodeID string `json:"node_id"`
}

// STANLeader is the node whose streaming server is the Raft leader: the
// only one that serves clients.
func STANLeader(ctx context.Context, c Cluster) (string, error) {
	var errs []error
	for _, n := range c.Nodes() {
		var z stanServerz
		if err := GetJSON(ctx, n, "/streaming/serverz", &z); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Name(), err))
			continue
		}
		if z.Role == "Leader" || (z.Role == "" && len(c.Nodes()) == 1) {
			return n.Name(), nil
		}
	}
	return "", fmt.Errorf("no streaming leader: %w", errors.Join(errs...))
}

// stanHealth is nil when every node's streaming server answers and one of
// them leads (a standalone node: it answers).
func stanHealth(ctx context.Context, nodes []Node) error {
	leaders := 0
	for _, n := range nodes {
		if err := healthz(ctx, n.MonitorURL()+"/healthz"); err != nil {
			return fmt.Errorf("%s: %w", n.Name(), err)
		}
		var z stanServerz
		if err := GetJSON(ctx, n, "/streaming/serverz", &z); err != nil {
			return fmt.Errorf("%s: streaming server: %w", n.Name(), err)
		}
		switch {
		case len(nodes) == 1:
			leaders++
		case z.Role == "Leader":
			leaders++
		case z.Role != "Follower":
			return fmt.Errorf("%s: streaming server is %s (role %q), not a leader or follower", n.Name(), z.State, z.Role)
		}
	}
	if leaders != 1 {
		return fmt.Errorf("%d streaming leaders, want 1", leaders)
	}
	return nil
}

// stanVersion is "nats-streaming-server <version>" from the first node
// that answers /streaming/serverz.
func stanVersion(ctx context.Context, c Cluster) (string, error) {
	var errs []error
	for _, n := range c.Nodes() {
		var z struct {
			Version string `json:"version"`
		}
		if err := GetJSON(ctx, n, "/streaming/serverz", &z); err != nil {
			errs = append(errs, err)
			continue
		}
		return "nats-streaming-server " + z.Version, nil
	}
	return "", errors.Join(errs...)
}
