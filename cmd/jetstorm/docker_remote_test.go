package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"jetstorm/clusters"
)

// remoteRun is a docker run with the faults a remote engine can do: a
// rolling restart with a new sync_interval (which the fault checks in
// /jsz after every restart, so a config not copied in again fails it), a
// kill and a pause.
const remoteRun = `name: docker-remote
cluster: {nodes: 3, backend: docker}
stream: {replicas: 3}
workload: {clients: 2, rate: 50, duration: 30s}
timeline:
  - {at: 3s, fault: sync-interval, sync_interval: always}
  - {at: 16s, fault: kill, target: n2, for: 4s}
  - {at: 23s, fault: pause, target: n3, for: 2s}
final: {recover: 60s, drain_timeout: 60s}
`

// A "remote" engine: the local one, reached over TCP at an address of
// this machine that is not loopback, which jetstorm takes for another
// machine (nothing is bind-mounted, ports are published on that address).
// The run is valid, its node logs are copied back, and no store is on
// this machine; a partition scenario is refused at load time, exit 3.
func TestDockerRemoteEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real docker cluster; skipped with -short")
	}
	clusters.NeedDockerInTest(t)
	local := clusters.DockerEngine(context.Background())
	u, err := url.Parse(local)
	if err != nil || u.Scheme != "unix" {
		t.Skipf("the engine here is at %q, not a unix socket to forward", local)
	}
	ip := nonLoopback(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go forward(ln, u.Path)
	remote := "DOCKER_HOST=tcp://" + ln.Addr().String()

	dir := t.TempDir()
	t.Run("refused", func(t *testing.T) {
		for fault, why := range map[string]string{
			"partition, shape: isolate": "partition and slowlink",
			"bitflip":                   "bitflip, truncate and rollback",
			"powerloss":                 "powerloss",
		} {
			file := filepath.Join(dir, "p.yaml")
			os.WriteFile(file, []byte(strings.Replace(remoteRun, "kill", fault, 1)), 0o644)
			cmd := jetstorm("run", file, "--out", filepath.Join(dir, "p"), "-q")
			cmd.Env = append(cmd.Env, remote)
			out, err := cmd.CombinedOutput()
			if code := exitCode(t, err); code != 3 || !bytes.Contains(out, []byte("on another machine")) || !bytes.Contains(out, []byte(why)) || !bytes.Contains(out, []byte("p.yaml:")) {
				t.Errorf("%s on a remote engine: exit %d, want 3 naming the file and why:\n%s", fault, code, out)
			}
		}
	})
	// An engine that does not answer is an error, not a run on the local
	// engine (testcontainers' fallback).
	t.Run("down", func(t *testing.T) {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		l.Close() // nothing answers there now
		file := filepath.Join(dir, "d.yaml")
		os.WriteFile(file, []byte(remoteRun), 0o644)
		cmd := jetstorm("run", file, "--out", filepath.Join(dir, "d"), "-q")
		cmd.Env = append(cmd.Env, "DOCKER_HOST=tcp://"+l.Addr().String())
		out, err := cmd.CombinedOutput()
		if code := exitCode(t, err); code == 0 || !bytes.Contains(out, []byte("does not answer")) {
			t.Errorf("a remote engine that does not answer: exit %d, want an error saying so:\n%s", code, out)
		}
	})
	t.Run("run", func(t *testing.T) {
		file := filepath.Join(dir, "r.yaml")
		os.WriteFile(file, []byte(remoteRun), 0o644)
		out := filepath.Join(dir, "r")
		cmd := jetstorm("run", file, "--out", out, "-q")
		cmd.Env = append(cmd.Env, remote)
		t.Cleanup(func() { clusters.CleanDocker(context.Background()) })
		b, err := cmd.CombinedOutput()
		if code := exitCode(t, err); code != 0 {
			t.Fatalf("exit %d on a remote engine, want 0:\n%s", code, b)
		}
		for _, n := range []string{"n1", "n2", "n3"} {
			log, _ := os.ReadFile(filepath.Join(out, "nodes", n, n+".log"))
			if !bytes.Contains(log, []byte("Server is ready")) {
				t.Errorf("%s's log was not copied back from the engine:\n%s", n, log)
			}
			if _, err := os.Stat(filepath.Join(out, "nodes", n, "store")); !os.IsNotExist(err) {
				t.Errorf("%s has a store on this machine (%v): it was mounted, not the container's own", n, err)
			}
		}
		// Every fault took: the sync-interval one checks /jsz after each
		// restart, so a config not copied in again is an error here.
		hist, _ := os.ReadFile(filepath.Join(out, "history.jsonl"))
		faults := 0
		for _, line := range bytes.Split(hist, []byte("\n")) {
			if bytes.Contains(line, []byte(`"f":"fault"`)) {
				faults++
				if bytes.Contains(line, []byte(`"err"`)) {
					t.Errorf("a fault failed on the remote engine: %s", line)
				}
			}
		}
		if faults != 6 { // 3 starts and 3 ends
			t.Errorf("%d fault records, want 6", faults)
		}
		sum, _ := os.ReadFile(filepath.Join(out, "results.json"))
		if !bytes.Contains(sum, []byte(`"verdict": "valid"`)) {
			t.Errorf("verdict on a remote engine:\n%s", sum)
		}
	})
}

// nonLoopback is an IPv4 address of this machine that is not loopback.
func nonLoopback(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback address on this machine to play a remote engine at")
	return ""
}

// forward relays every connection to ln to the unix socket at path.
func forward(ln net.Listener, path string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			s, err := net.Dial("unix", path)
			if err != nil {
				return
			}
			defer s.Close()
			go func() { io.Copy(s, c); s.(*net.UnixConn).CloseWrite() }()
			io.Copy(c, s)
		}()
	}
}
