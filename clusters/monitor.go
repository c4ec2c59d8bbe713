package clusters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// GetJSON fetches a monitor endpoint (e.g. "/jsz?streams=true") of a node.
func GetJSON(ctx context.Context, n Node, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.MonitorURL()+path, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", n.Name(), path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &HTTPError{fmt.Sprintf("%s %s", n.Name(), path), resp.StatusCode}
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s %s: %w", n.Name(), path, err)
	}
	return nil
}

// HTTPError is a monitor endpoint's answer other than 200.
type HTTPError struct {
	What   string
	Status int
}

func (e *HTTPError) Error() string { return fmt.Sprintf("%s: HTTP %d", e.What, e.Status) }

// IsNotFound reports whether err is a monitor endpoint's 404.
func IsNotFound(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && he.Status == http.StatusNotFound
}

// Jsz is a node's /jsz with stream details.
func Jsz(ctx context.Context, n Node) (*server.JSInfo, error) {
	var info server.JSInfo
	err := GetJSON(ctx, n, "/jsz?streams=true", &info)
	return &info, err
}

// StreamLastSeq is the last sequence of stream in n's own copy, as n's
// /jsz reports it.
func StreamLastSeq(ctx context.Context, n Node, stream string) (uint64, error) {
	info, err := Jsz(ctx, n)
	if err != nil {
		return 0, err
	}
	for _, a := range info.AccountDetails {
		for _, s := range a.Streams {
			if s.Name == stream {
				return s.State.LastSeq, nil
			}
		}
	}
	return 0, fmt.Errorf("%s: /jsz lists no stream %s", n.Name(), stream)
}

// Version asks the first node that answers for its server version (/varz).
func Version(ctx context.Context, c Cluster) (string, error) {
	if st, ok := c.(interface{ STAN() bool }); ok && st.STAN() {
		return stanVersion(ctx, c)
	}
	var last error
	for _, n := range c.Nodes() {
		if n.MonitorURL() == "" { // an external cluster without monitor URLs: ask a client connection
			nc, err := Connect(n.ClientURL(), nats.Timeout(5*time.Second))
			if last = err; err == nil {
				v := nc.ConnectedServerVersion()
				nc.Close()
				return v, nil
			}
			continue
		}
		var v struct {
			Version string `json:"version"`
		}
		if last = GetJSON(ctx, n, "/varz", &v); last == nil {
			return v.Version, nil
		}
	}
	return "", last
}

// NodeVersion is one node's server version, from its /varz.
func NodeVersion(ctx context.Context, n Node) (string, error) {
	var v struct {
		Version string `json:"version"`
	}
	err := GetJSON(ctx, n, "/varz", &v)
	return v.Version, err
}

// MetaLeader is the meta group leader's name as any running node reports it.
func MetaLeader(ctx context.Context, c Cluster) (string, error) {
	for _, n := range c.Nodes() {
		if !n.Running() {
			continue
		}
		if info, err := Jsz(ctx, n); err == nil && info.Meta != nil && info.Meta.Leader != "" {
			return info.Meta.Leader, nil
		}
	}
	return "", fmt.Errorf("no node reports a meta leader")
}

// StreamLeader is the leader of stream as any running node reports it.
func StreamLeader(ctx context.Context, c Cluster, stream string) (string, error) {
	for _, n := range c.Nodes() {
		if !n.Running() {
			continue
		}
		info, err := Jsz(ctx, n)
		if err != nil {
			continue
		}
		for _, a := range info.AccountDetails {
			for _, s := range a.Streams {
				if s.Name == stream && s.Cluster != nil && s.Cluster.Leader != "" {
					return s.Cluster.Leader, nil
				}
			}
		}
	}
	return "", fmt.Errorf("no node reports a leader for stream %s", stream)
}

// RoutedPeers lists the distinct peer names in a node's /routez.
func RoutedPeers(ctx context.Context, n Node) ([]string, error) {
	var rz server.Routez
	if err := GetJSON(ctx, n, "/routez", &rz); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var peers []string
	for _, r := range rz.Routes {
		if !seen[r.RemoteName] {
			seen[r.RemoteName] = true
			peers = append(peers, r.RemoteName)
		}
	}
	sort.Strings(peers)
	return peers, nil
}

// MoveStreamLeader makes name the leader of stream: while another node
// leads, it asks that leader to step down with name as the preferred
// placement (or, on servers that do not take one, plainly, until the
// election picks name), until name leads or about 30 s have passed.
func MoveStreamLeader(ctx context.Context, nc *nats.Conn, stream, name string) error {
	req, _ := json.Marshal(map[string]any{"placement": map[string]string{"preferred": name}})
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	last := "no answer"
	for time.Now().Before(deadline) && ctx.Err() == nil {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var info *jetstream.StreamInfo
		st, err := js.Stream(actx, stream)
		if err == nil {
			info, err = st.Info(actx)
		}
		cancel()
		if err == nil && info.Cluster != nil && info.Cluster.Leader == name {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else if info.Cluster != nil && info.Cluster.Leader != "" {
			if resp, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+stream, req, 5*time.Second); err != nil {
				last = err.Error()
			} else {
				last = string(resp.Data)
				if req != nil && strings.Contains(last, `"err_code":10003`) {
					// Servers before 2.11 take no placement ("bad request"):
					// step down plainly until the node we want is elected.
					req = nil
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("could not make %s the leader of stream %s (last answer: %s)", name, stream, last)
}

// Consumers is what n's /jsz reports of stream's durable consumers: each
// node's own view of the consumer state it holds (delivered, ack floor,
// pending), by consumer name. Replicas that disagree after the cluster
// settled hold different consumer state.
func Consumers(ctx context.Context, n Node, stream string) (map[string]*server.ConsumerInfo, error) {
	var info server.JSInfo
	if err := GetJSON(ctx, n, "/jsz?consumers=true", &info); err != nil {
		return nil, err
	}
	out := map[string]*server.ConsumerInfo{}
	for _, a := range info.AccountDetails {
		for _, s := range a.Streams {
			if s.Name != stream {
				continue
			}
			for _, c := range s.Consumer {
				if c != nil {
					out[c.Name] = c
				}
			}
		}
	}
	return out, nil
}
