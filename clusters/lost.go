package clusters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"
)

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
