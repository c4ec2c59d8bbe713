package scenarios

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// `jetstorm cluster` starts on the run's start path: every node healthy
// before it prints the URLs, and every node gone once ctx ends.
func TestServe(t *testing.T) {
	for _, o := range []ServeOptions{{Nodes: 0}, {Nodes: 3, SyncInterval: "sometimes"}, {Nodes: 3, Server: "/no/such/nats-server"}} {
		var ce *ConfigError
		if err := Serve(context.Background(), o, io.Discard, nil); !errors.As(err, &ce) {
			t.Errorf("%+v: %v, want a ConfigError", o, err)
		}
	}
	if testing.Short() {
		t.Skip("runs a real 3-node cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeOptions{Dir: t.TempDir(), Nodes: 3, SyncInterval: "always"}, pw, nil)
		pw.Close()
	}()
	var monitors []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if m, ok := strings.CutPrefix(line, "monitor_urls: ["); ok {
			monitors = strings.Split(strings.TrimSuffix(m, "]"), ", ")
		}
		if strings.HasPrefix(line, "Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if len(monitors) != 3 {
		t.Fatalf("monitor URLs %q", monitors)
	}
	for _, m := range monitors {
		resp, err := http.Get(m + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s/healthz: %v %v", m, resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, m := range monitors {
		if resp, err := http.Get(m + "/healthz"); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after Serve returned", m)
		}
	}
}
