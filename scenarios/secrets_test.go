package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"jetstorm/internal/natstest"
)

// A run against an external cluster whose URL carries a password leaves
// that password nowhere in its run directory (scenario.yaml keeps the URL
// with the password redacted), and the run itself used it.
func TestExternalPasswordNotSaved(t *testing.T) {
	const secret = "pw-7d1f-secret"
	s := natstest.Run(t, server.Options{JetStream: true, Username: "app", Password: secret})
	url := strings.Replace(s.ClientURL(), "nats://", "nats://app:"+secret+"@", 1)
	o := runYAML(t, "name: secrets\ncluster: {backend: external, urls: ['"+url+"']}\nstream: {replicas: 1, storage: memory}\n"+
		"workload: {type: queue, clients: 2, rate: 50, duration: 2s}\n", RunOptions{})
	if o.Results.Verdict != "valid" {
		t.Errorf("verdict %s, want valid (the run connected with the password)", o.Results.Verdict)
	}
	found := false
	err := filepath.WalkDir(o.Dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), secret) {
			t.Errorf("%s holds the password", p)
		}
		if filepath.Base(p) == "scenario.yaml" && strings.Contains(string(b), "app:REDACTED@") {
			found = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Error("scenario.yaml does not hold the redacted URL")
	}
}
