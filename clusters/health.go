package clusters

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// WaitHealthy polls every node until each answers /healthz with 200 and
// has a route to every other node.
//
// It must hold for HealthyFor in a row: right after a restart /healthz can
// answer 200 for a moment while a replica is still catching up, then fail
// again (seen after a whole-cluster power loss).
func WaitHealthy(ctx context.Context, nodes []Node) error {
	return waitHealthyBy(ctx, func() []string {
		var bad []string
		for _, n := range nodes {
			if err := nodeHealth(ctx, n, len(nodes)); err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", n.Name(), err))
			}
		}
		return bad
	})
}

// waitHealthyBy polls probe (what is unhealthy, nil: nothing) until it
// has found nothing for HealthyFor in a row.
func waitHealthyBy(ctx context.Context, probe func() []string) error {
	var since time.Time // first poll of the current all-healthy streak
	for {
		bad := probe()
		switch {
		case len(bad) > 0:
			since = time.Time{}
		case since.IsZero():
			since = time.Now()
		}
		if len(bad) == 0 && time.Since(since) >= HealthyFor {
			return nil
		}
		select {
		case <-ctx.Done():
			if len(bad) == 0 {
				return fmt.Errorf("cluster healthy for only %s, not %s", time.Since(since).Round(time.Millisecond), HealthyFor)
			}
			return fmt.Errorf("cluster not healthy: %s", strings.Join(bad, "; "))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// nodeHealth is one health probe of n in a cluster of size nodes: /healthz
// 200 and a route to every peer.
func nodeHealth(ctx context.Context, n Node, nodes int) error {
	if err := healthz(ctx, n.MonitorURL()+"/healthz"); err != nil {
		return err
	}
	peers, err := RoutedPeers(ctx, n)
	if err != nil {
		return err
	}
	if len(peers) != nodes-1 {
		// /healthz can be 200 on a node whose routes are still down
		// (e.g. just after a partition heals).
		return fmt.Errorf("routes to %v only", peers)
	}
	return metaSize(ctx, n, nodes)
}

// metaSize checks that n sees a JetStream meta group of every node. A node
// that started late under load can be left out of it, /healthz 200 and
// routed, while nothing of replication factor N can be placed ("no
// suitable peers for placement"; seen for minutes on nats-server 2.10.23,
// docs/findings.md F5).
func metaSize(ctx context.Context, n Node, nodes int) error {
	var jz struct {
		Meta *struct {
			Size int `json:"cluster_size"`
		} `json:"meta_cluster"`
	}
	if err := GetJSON(ctx, n, "/jsz", &jz); err != nil {
		return err
	}
	if jz.Meta != nil && jz.Meta.Size > 0 && jz.Meta.Size != nodes {
		return fmt.Errorf("JetStream meta group of %d nodes, not %d", jz.Meta.Size, nodes)
	}
	return nil
}

// HealthErrors probes every node once and returns each unhealthy node's
// error (nil when all are healthy): /healthz, then routes to every peer
// that answered /healthz itself (a node is not blamed for missing a route
// to a node that is down). A process node that is not running says so,
// with the tail of its log: why it exited.
func HealthErrors(ctx context.Context, nodes []Node) map[string]string {
	out := map[string]string{}
	up := map[string]bool{}
	for _, n := range nodes {
		if err := healthz(ctx, n.MonitorURL()+"/healthz"); err != nil {
			out[n.Name()] = err.Error()
			if !n.Running() && n.LogPath() != "" {
				out[n.Name()] = "not running; log ends: " + lastLines(n.LogPath(), 3)
			}
			continue
		}
		up[n.Name()] = true
	}
	for _, n := range nodes {
		if !up[n.Name()] {
			continue
		}
		peers, err := RoutedPeers(ctx, n)
		if err != nil {
			out[n.Name()] = err.Error()
			continue
		}
		var missing []string
		for _, p := range nodes {
			if p.Name() != n.Name() && up[p.Name()] && !slices.Contains(peers, p.Name()) {
				missing = append(missing, p.Name())
			}
		}
		if len(missing) > 0 {
			out[n.Name()] = fmt.Sprintf("no route to %s (routes to %v only)", strings.Join(missing, ", "), peers)
		} else if err := metaSize(ctx, n, len(nodes)); err != nil {
			out[n.Name()] = err.Error()
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// HealthyFor is how long every node must stay healthy for WaitHealthy.
var HealthyFor = time.Second

var httpClient = &http.Client{Timeout: 2 * time.Second}

func healthz(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// waitReady polls n's /healthz?js-enabled-only=true until it answers (a
// started node accepts clients), exited reports the node gone, or timeout.
func waitReady(ctx context.Context, n Node, timeout time.Duration, exited func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if healthz(ctx, n.MonitorURL()+"/healthz?js-enabled-only=true") == nil {
			return nil
		}
		if exited() {
			return fmt.Errorf("start %s: process exited: %s", n.Name(), lastLines(n.LogPath(), 5))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("start %s: not ready after %s: %w (log %s)", n.Name(), timeout, ctx.Err(), n.LogPath())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func lastLines(path string, k int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > k {
		lines = lines[len(lines)-k:]
	}
	return strings.Join(lines, " | ")
}
