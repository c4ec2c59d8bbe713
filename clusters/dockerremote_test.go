package clusters

import (
	"errors"
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
	err := remoteEngineError("tcp://docker.example.com:2376")
	var se *SpecError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "tcp://docker.example.com:2376") || !strings.Contains(err.Error(), "partitions, power loss and store faults") {
		t.Errorf("refusal of a remote engine: %v", err)
	}
	if err := remoteEngineError("unix:///var/run/docker.sock"); err != nil {
		t.Errorf("a local engine refused: %v", err)
	}
}
