package clusters

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"jetstorm/internal/natstest"
)

func runProbeServer(t *testing.T, o server.Options) string {
	return natstest.Run(t, o).ClientURL()
}

// An external cluster is probed before the run: a URL nobody answers, a
// server without JetStream and refused credentials are each a SpecError
// (exit 3) that says which, and never shows the password; a server with
// JetStream passes.
func TestExternalProbe(t *testing.T) {
	ctx := context.Background()
	start := func(url string) error {
		_, err := startExternal(ctx, Config{Backend: "external", URLs: []string{url}})
		return err
	}
	if err := start(runProbeServer(t, server.Options{JetStream: true})); err != nil {
		t.Errorf("a server with JetStream: %v", err)
	}
	noJS := runProbeServer(t, server.Options{})
	withAuth := runProbeServer(t, server.Options{JetStream: true, Username: "app", Password: "s3cret-pw"})
	bad := strings.Replace(withAuth, "nats://", "nats://app:wrong-pw@", 1)
	for _, tt := range []struct{ url, want string }{
		{"nats://127.0.0.1:1", "cannot connect"},
		{noJS, "no JetStream"},
		{bad, "credentials were refused"},
	} {
		err := start(tt.url)
		var se *SpecError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a SpecError saying %q", tt.url, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "wrong-pw") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	good := strings.Replace(withAuth, "nats://", "nats://app:s3cret-pw@", 1)
	if err := start(good); err != nil {
		t.Errorf("the right credentials: %v", err)
	}
	if got := RedactURL(good); strings.Contains(got, "s3cret") || !strings.Contains(got, "app:REDACTED@") {
		t.Errorf("RedactURL(%s) = %s", good, got)
	}
}
