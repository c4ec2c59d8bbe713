package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"jetstorm/internal/natstest"
)

// An external cluster that goes away mid-run: jetstorm stops the run once
// no node has answered for cluster.lost_after, checks what it recorded,
// and exits 2 saying the cluster was lost.
func TestExternalLostExit2(t *testing.T) {
	if testing.Short() {
		t.Skip("runs jetstorm against a real server; skipped with -short")
	}
	s := natstest.Run(t, server.Options{JetStream: true})
	dir := t.TempDir()
	scenario := filepath.Join(dir, "lost.yaml")
	yaml := "name: lost\ncluster: {backend: external, urls: ['" + s.ClientURL() + "'], lost_after: 2s}\nstream: {replicas: 1, storage: memory}\n" +
		"workload: {type: queue, clients: 2, rate: 50, duration: 120s}\n"
	if err := os.WriteFile(scenario, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	var stderr bytes.Buffer
	cmd := jetstorm("run", scenario, "--out", out)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if b, _ := os.ReadFile(filepath.Join(out, "history.jsonl")); strings.Count(string(b), "\n") > 20 {
			break
		}
		if time.Now().After(end) {
			cmd.Process.Kill()
			t.Fatalf("the run recorded nothing within a minute: %s", stderr.String())
		}
	}
	start := time.Now()
	s.Shutdown()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := exitCode(t, err); code != 2 || !strings.Contains(stderr.String(), "lost the cluster") {
			t.Errorf("exit %d, want 2 saying the cluster was lost; stderr:\n%s", code, stderr.String())
		}
		t.Logf("stopped %s after the server went; stderr ends: %s", time.Since(start).Round(100*time.Millisecond), lastLines(stderr.String(), 2))
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 90s after its cluster went away: %s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, "results.json")); err != nil {
		t.Errorf("what was recorded was not checked: %v", err)
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
