package clusters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// SysUser and SysPassword log in to the system account of a node whose
// config has NodeConfig.SystemUser; the config holds the password's bcrypt
// hash (a plaintext one makes every server warn).
const (
	SysUser         = "jetstorm-sys"
	SysPassword     = "jetstorm-sys"
	sysPasswordHash = "$2a$04$Av.lOkfNhfC63W8bHEZ6eO4STsB3q1AKcOJ9H4Jq4mRstDHX/0tWy"
)

// SysConnect connects to the system account through the first running
// node other than skip.
func SysConnect(c Cluster, skip Node) (*nats.Conn, error) {
	var errs []error
	for _, n := range c.Nodes() {
		if n == skip || !n.Running() {
			continue
		}
		nc, err := nats.Connect(n.ClientURL(), nats.UserInfo(SysUser, SysPassword),
			nats.IgnoreDiscoveredServers(), nats.Timeout(5*time.Second), nats.Name("jetstorm system"))
		if err == nil {
			return nc, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", n.Name(), err))
	}
	return nil, fmt.Errorf("no node to reach the system account through: %w", errors.Join(errs...))
}

// RemovePeer asks the meta leader to remove the server named peer from
// the JetStream cluster ($JS.API.SERVER.REMOVE, what `nats server raft
// peer-remove` sends), retrying while no meta leader answers (one may be
// being elected) or another removal is in flight, until ctx ends.
func RemovePeer(ctx context.Context, nc *nats.Conn, peer string) error {
	req, _ := json.Marshal(map[string]string{"peer": peer})
	for {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		msg, err := nc.RequestWithContext(rctx, "$JS.API.SERVER.REMOVE", req)
		cancel()
		if err == nil {
			var resp struct {
				Success bool `json:"success"`
				Error   *struct {
					Code        int    `json:"code"`
					ErrCode     int    `json:"err_code"`
					Description string `json:"description"`
				} `json:"error"`
			}
			if err := json.Unmarshal(msg.Data, &resp); err != nil {
				return fmt.Errorf("peer-remove %s: reply %q: %w", peer, msg.Data, err)
			}
			if resp.Success {
				return nil
			}
			if resp.Error == nil {
				return fmt.Errorf("peer-remove %s: reply %q", peer, msg.Data)
			}
			// 10202: another membership change is in flight; ask again.
			if resp.Error.ErrCode != 10202 {
				return fmt.Errorf("peer-remove %s: %s (%d)", peer, resp.Error.Description, resp.Error.ErrCode)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("peer-remove %s: no answer from a meta leader: %w (last: %v)", peer, ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// PeerSets are a cluster's JetStream peer sets at one moment, as /jsz
// shows them: the meta group's, and the stream's.
type PeerSets struct {
	MetaLeader string   `json:"meta_leader"`
	Meta       []string `json:"meta"`              // every meta group member, sorted
	Offline    []string `json:"offline,omitempty"` // members the meta leader sees offline
	Leader     string   `json:"stream_leader"`     // the stream's leader
	Stream     []string `json:"stream"`            // the stream's peers, sorted
	Current    int      `json:"stream_current"`
	Replicas   int      `json:"stream_replicas"`       // the stream's configured replica count        // how many of them are current (the leader is)
	Err        string   `json:"error,omitempty"`       // what could not be read
	From       string   `json:"read_from,omitempty"`   // the node whose /jsz gave the meta view
	StreamFrom string   `json:"stream_from,omitempty"` // the node whose /jsz gave the stream view
}

// jszPeers is the part of /jsz peer sets are read from, in a form every
// server version since 2.10 reports.
type jszPeers struct {
	Meta *struct {
		Leader   string     `json:"leader"`
		Replicas []peerInfo `json:"replicas"`
	} `json:"meta_cluster"`
	Accounts []struct {
		Streams []struct {
			Name   string `json:"name"`
			Config *struct {
				Replicas int `json:"num_replicas"`
			} `json:"config"`
			Cluster *struct {
				Leader   string     `json:"leader"`
				Replicas []peerInfo `json:"replicas"`
			} `json:"cluster"`
		} `json:"stream_detail"`
	} `json:"account_details"`
}

type peerInfo struct {
	Name    string `json:"name"`
	Current bool   `json:"current"`
	Offline bool   `json:"offline"`
}

// ReadPeerSets reads the peer sets from the running nodes' /jsz: the meta
// view from the meta leader (any node's when none claims it), the stream
// view from the stream's leader (any host's when none claims it).
func ReadPeerSets(ctx context.Context, c Cluster, stream string) PeerSets {
	var ps PeerSets
	var errs []error
	metaOwn, streamOwn := false, false
	for _, n := range c.Nodes() {
		if !n.Running() || n.MonitorURL() == "" {
			continue
		}
		var j jszPeers
		if err := GetJSON(ctx, n, "/jsz?accounts=true&streams=true&config=true", &j); err != nil {
			errs = append(errs, err)
			continue
		}
		self := n.ServerName()
		if j.Meta != nil && j.Meta.Leader != "" && !metaOwn {
			metaOwn = j.Meta.Leader == self
			ps.MetaLeader, ps.From, ps.Offline = j.Meta.Leader, n.Name(), nil
			// A node's view lists every member but itself as a replica.
			ps.Meta = []string{j.Meta.Leader, self}
			for _, r := range j.Meta.Replicas {
				ps.Meta = append(ps.Meta, r.Name)
				if r.Offline {
					ps.Offline = append(ps.Offline, r.Name)
				}
			}
			ps.Meta = sortedSet(ps.Meta)
			slices.Sort(ps.Offline)
		}
		for _, a := range j.Accounts {
			for _, s := range a.Streams {
				if s.Name != stream || s.Cluster == nil || streamOwn || s.Cluster.Leader == "" {
					continue
				}
				streamOwn = s.Cluster.Leader == self
				ps.Leader, ps.StreamFrom = s.Cluster.Leader, n.Name()
				if s.Config != nil {
					ps.Replicas = s.Config.Replicas
				}
				// The leader and this host are current by definition.
				ps.Stream = []string{s.Cluster.Leader, self}
				for _, r := range s.Cluster.Replicas {
					ps.Stream = append(ps.Stream, r.Name)
				}
				ps.Stream = sortedSet(ps.Stream)
				ps.Current = len(ps.Stream)
				for _, r := range s.Cluster.Replicas {
					if !r.Current {
						ps.Current--
					}
				}
			}
		}
	}
	if ps.MetaLeader == "" {
		errs = append(errs, errors.New("no node names a meta leader"))
	}
	if stream != "" && ps.Leader == "" {
		errs = append(errs, fmt.Errorf("no node names a leader of stream %s", stream))
	}
	if len(errs) > 0 {
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		ps.Err = strings.Join(msgs, "; ")
	}
	return ps
}

// sortedSet is names sorted, without duplicates.
func sortedSet(names []string) []string {
	slices.Sort(names)
	return slices.Compact(names)
}
