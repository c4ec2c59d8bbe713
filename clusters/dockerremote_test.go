package clusters

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// Which engine addresses are on another machine (no engine is contacted).
func TestDockerHostRemote(t *testing.T) {
	for host, remote := range map[string]bool{
		"unix:///var/run/docker.sock":              false,
		"/var/run/docker.sock":                     false,
		"npipe:////./pipe/docker_engine":           false,
		"tcp://127.0.0.1:2375":                     false,
		"tcp://localhost:2376":                     false,
		"tcp://[::1]:2375":                         false,
		"tcp://docker.example.com:2376":            true,
		"tcp://192.0.2.10:2375":                    true,
		"https://[2001:db8::1]:2376":               true,
		"ssh://me@build-host":                      true,
		"ssh://me@localhost":                       false,
		"unix:///run/user/1000/docker.sock":        false,
		"tcp://127.0.0.53:2375":                    false,
		"tcp://host.docker.internal:2375":          true,
		"http://0.0.0.0:2375":                      false, // dials this machine
		"tcp://[::ffff:127.0.0.1]:2375":            false,
		"unix:///Users/me/.docker/run/docker.sock": false,
	} {
		if got := dockerHostRemote(host); got != remote {
			t.Errorf("dockerHostRemote(%q) = %v, want %v", host, got, remote)
		}
	}
}

// Where published ports are bound and dialled: loopback for a local
// engine; the engine's address for a remote one (every address when it
// is a name).
func TestDockerEngineAt(t *testing.T) {
	for daemon, want := range map[string]struct{ url, bind string }{
		"unix:///var/run/docker.sock":   {"nats://127.0.0.1:4222", "127.0.0.1"},
		"tcp://192.0.2.10:2375":         {"nats://192.0.2.10:4222", "192.0.2.10"},
		"tcp://[2001:db8::1]:2376":      {"nats://[2001:db8::1]:4222", "2001:db8::1"},
		"ssh://me@build-host":           {"nats://build-host:4222", "0.0.0.0"},
		"tcp://docker.example.com:2376": {"nats://docker.example.com:4222", "0.0.0.0"},
	} {
		e := engineAt(daemon)
		if got := e.url("nats", 4222); got != want.url || e.bind != netip.MustParseAddr(want.bind) {
			t.Errorf("engineAt(%q): dials %s, binds %s; want %s, %s", daemon, got, e.bind, want.url, want.bind)
		}
	}
}

// A remote engine refuses exactly what needs the nodes' namespaces or
// stores on this machine, naming each; a local one refuses nothing.
func TestRemoteEngineRefuses(t *testing.T) {
	const remote = "tcp://docker.example.com:2376"
	if err := RemoteEngineRefuses(remote, false, false, false); err != nil {
		t.Errorf("kill, restart, pause on a remote engine refused: %v", err)
	}
	for _, c := range []struct {
		links, power, store bool
		want                string
	}{
		{true, false, false, "partition and slowlink"},
		{false, true, false, "powerloss"},
		{false, false, true, "bitflip, truncate and rollback"},
	} {
		err := RemoteEngineRefuses(remote, c.links, c.power, c.store)
		var se *SpecError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), remote) {
			t.Errorf("refusal of %s on a remote engine: %v", c.want, err)
		}
		if err := RemoteEngineRefuses("unix:///var/run/docker.sock", c.links, c.power, c.store); err != nil {
			t.Errorf("%s refused on a local engine: %v", c.want, err)
		}
	}
}

// The engine DOCKER_HOST names, as the client reports it back, is the same
// engine; the default socket testcontainers falls back to is not.
func TestSameEngine(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"tcp://192.0.2.10:2375", "tcp://192.0.2.10:2375", true},
		{"unix:///var/run/docker.sock", "unix:///var/run/docker.sock", true},
		{"unix:///var/run//docker.sock", "unix:///var/run/docker.sock", true},
		{"tcp://192.0.2.10:2375", "unix:///var/run/docker.sock", false},
		{"tcp://192.0.2.10:2375", "tcp://192.0.2.10:2376", false},
		{"ssh://me@build-host", "ssh://me@build-host", true},
	} {
		if got := sameEngine(c.a, c.b); got != c.same {
			t.Errorf("sameEngine(%q, %q) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
}
