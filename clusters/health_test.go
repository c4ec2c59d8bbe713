package clusters

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A node that is up and routed to every peer, but sees a JetStream meta
// group smaller than the cluster (a node left out of it: F5), is not
// healthy, and says why; a full meta group, or none (standalone), is.
func TestHealthMetaGroupSize(t *testing.T) {
	size := 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			fmt.Fprint(w, `{"status":"ok"}`)
		case "/routez":
			fmt.Fprint(w, `{"routes":[{"remote_name":"n2"},{"remote_name":"n3"}]}`)
		case "/jsz":
			if size == 0 {
				fmt.Fprint(w, `{}`)
				return
			}
			fmt.Fprintf(w, `{"meta_cluster":{"leader":"n1","cluster_size":%d}}`, size)
		}
	}))
	defer srv.Close()
	c, err := NewExternal([]string{"nats://127.0.0.1:1"}, []string{srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	n := c.Nodes()[0]
	if err := nodeHealth(context.Background(), n, 3); err == nil || !strings.Contains(err.Error(), "meta group of 2 nodes, not 3") {
		t.Errorf("meta group of 2 in a 3-node cluster: %v", err)
	}
	if bad := HealthErrors(context.Background(), []Node{n}); !strings.Contains(bad["n1"], "meta group of 2 nodes, not 1") {
		t.Errorf("HealthErrors: %v", bad)
	}
	for _, size = range []int{3, 0} {
		if err := nodeHealth(context.Background(), n, 3); err != nil {
			t.Errorf("meta group size %d: %v", size, err)
		}
	}
}
