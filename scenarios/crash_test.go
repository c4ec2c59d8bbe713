package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"jetstorm/checker"
)

// panickyServer writes a nats-server wrapper (cluster.server takes a path)
// that runs this test binary as the node, except at n2's second start:
// there it logs like nats-server, prints the Go panic nats-server 2.12.1
// died of after bit flips (issue 11) and exits 2. Later starts run
// normally, as the real crash loop eventually did.
func panickyServer(t *testing.T) string {
	return wrapServer(t, `[ "$n" -eq 2 ]`, panicBody)
}

// wrapServer writes a nats-server wrapper that runs this test binary as the
// node, except for n2's starts numbered n where the shell test cond holds:
// there it runs body instead.
func wrapServer(t *testing.T, cond, body string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := `#!/bin/sh
# argv: -c CONFIG (nodes/nN/nN.conf)
conf="$2"
dir=$(dirname "$conf")
n=$(( $(cat "$dir/starts" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$dir/starts"
if [ "$(basename "$conf")" = n2.conf ] && ` + cond + `; then
` + body + `
fi
JETSTORM_NODE_CHILD=1 exec "` + exe + `" node --config "$conf"
`
	p := filepath.Join(t.TempDir(), "nats-server")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// panicBody logs like nats-server, prints the Go panic 2.12.1 died of and
// exits 2.
const panicBody = `
	now=$(date +'%Y/%m/%d %H:%M:%S.%6N')
	echo "[$$] $now [INF] Starting nats-server" >&2
	echo "[$$] $now [INF] Starting JetStream" >&2
	echo "[$$] $now [INF] Recovering JetStream state for account \"\$G\"" >&2
	cat >&2 <<'EOF'
panic: runtime error: slice bounds out of range [4:0]

goroutine 1 [running]:
github.com/nats-io/nats-server/v2/server.(*msgBlock).rebuildStateLocked(0xc0003c2008)
	/root/go/pkg/mod/github.com/nats-io/nats-server/v2@v2.12.1/server/filestore.go:1578 +0x1a45
github.com/nats-io/nats-server/v2/server.(*msgBlock).rebuildState(0xc0003c2008)
	/root/go/pkg/mod/github.com/nats-io/nats-server/v2@v2.12.1/server/filestore.go:1551 +0x6c
github.com/nats-io/nats-server/v2/server.(*fileStore).recoverMsgBlock(0xc0002e0008, 0x1)
	/root/go/pkg/mod/github.com/nats-io/nats-server/v2@v2.12.1/server/filestore.go:1389 +0x9f1
github.com/nats-io/nats-server/v2/server.(*fileStore).recoverMsgs(0xc0002e0008)
	/root/go/pkg/mod/github.com/nats-io/nats-server/v2@v2.12.1/server/filestore.go:2011 +0x7a5
main.main()
	/root/go/pkg/mod/github.com/nats-io/nats-server/v2@v2.12.1/main.go:133 +0x2c5
EOF
	exit 2`

// A node's server panics when a kill heals (its second start) and comes
// back at the final recovery: the run is invalid (were nothing lost), with
// the panic at the top of the summary, in results.json and in junit.xml.
// Re-checked with check.known_crashes matching it, the run is valid and the
// crash still reported.
func TestRunServerPanicIsInvalid(t *testing.T) {
	server := panickyServer(t)
	o, _ := runScenario(t, fmt.Sprintf(`
name: panic
seed: 11
cluster: {nodes: 3, sync_interval: always, server: %q}
stream: {replicas: 3}
workload: {clients: 3, rate: 100, duration: 8s}
timeline:
  - {at: 2s, fault: kill, target: n2, for: 2s}
final: {recover: 60s, drain_timeout: 30s}
`, server))
	r := o.Results
	checks := map[string]checker.Result{}
	for _, c := range r.Checks {
		checks[c.Name] = c
	}
	t.Logf("errors %q", r.Errors)
	if r.Verdict != checker.Invalid || o.ExitCode() != 1 {
		t.Fatalf("verdict %s (exit %d), want invalid", r.Verdict, o.ExitCode())
	}
	if c := checks["crashes"]; c.Verdict != checker.Invalid {
		t.Errorf("crashes check %+v", c)
	}
	// The queue and per-node checks are not asserted: the crash check's
	// verdict alone is what this test is about.
	t.Logf("queue: %s %s; per-node: %s %s", checks["queue"].Verdict, checks["queue"].Message,
		checks["per-node"].Verdict, checks["per-node"].Message)
	if len(r.Crashes) != 1 {
		t.Fatalf("crashes %+v, want 1", r.Crashes)
	}
	c := r.Crashes[0]
	if c.Node != "n2" || c.Start != 2 || c.Kind != "panic" || c.Message != "panic: runtime error: slice bounds out of range [4:0]" ||
		len(c.Stack) != 5 || c.Stack[0] != "github.com/nats-io/nats-server/v2/server.(*msgBlock).rebuildStateLocked (filestore.go:1578)" ||
		c.Time == "" || c.At == "" || !strings.HasPrefix(c.Log, "nodes/n2/n2.log:") || c.Known != "" {
		t.Errorf("crash %+v", c)
	}
	if n := r.NodeLogs["n2"].Starts; n < 3 {
		t.Errorf("n2 started %d times, want 3 (first, the panic, the final recovery)", n)
	}

	var sum bytes.Buffer
	r.Summary(&sum)
	lines := strings.Split(sum.String(), "\n")
	if len(lines) < 4 || !strings.Contains(lines[1], "verdict: INVALID") ||
		!strings.HasPrefix(lines[2], "  CRASH n2 start 2 at ") ||
		!strings.Contains(lines[2], ": panic: runtime error: slice bounds out of range [4:0] (nodes/n2/n2.log:") ||
		!strings.Contains(lines[3], "rebuildStateLocked (filestore.go:1578)") {
		t.Errorf("summary does not start with the panic:\n%s", sum.String())
	}
	junit, err := os.ReadFile(filepath.Join(o.Dir, "junit.xml"))
	if err != nil || !strings.Contains(string(junit), `<testcase name="crash n2 (`+c.Log+`)"`) ||
		!strings.Contains(string(junit), `<failure message="panic: runtime error: slice bounds out of range [4:0]" type="crash: panic">`) {
		t.Errorf("junit.xml has no failed case for the crash (%v):\n%s", err, junit)
	}

	// jetstorm check DIR: the same checks, with known_crashes from the
	// run's scenario.yaml.
	path := filepath.Join(o.Dir, "scenario.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "check" {
			var known yaml.Node
			if err := known.Encode(map[string][]string{"known_crashes": {`\(\*msgBlock\)\.rebuildStateLocked`}}); err != nil {
				t.Fatal(err)
			}
			root.Content[i+1].Content = append(root.Content[i+1].Content, known.Content...)
		}
	}
	if b, err = yaml.Marshal(&doc); err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "known_crashes") {
		t.Fatalf("scenario.yaml has no check section:\n%s", b)
	}
	res, err := Finish(context.Background(), o.Dir, FinishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range res.Checks {
		if res.Name != "crashes" {
			continue
		}
		if res.Verdict != checker.Valid {
			t.Errorf("with known_crashes: %s %q", res.Verdict, res.Message)
		}
		break
	}
	if len(res.Crashes) != 1 || res.Crashes[0].Known == "" {
		t.Errorf("with known_crashes: crashes %+v (checks %+v)", res.Crashes, res.Checks)
	}
}

// A node that never comes back after a kill (here its server exits at once
// on every later start, logging no crash) leaves a cluster that never
// heals: nothing is proven on what could be read, so the run is unknown
// (exit 2), and the node is named with its last health error.
func TestRunNeverHealedIsUnknown(t *testing.T) {
	server := wrapServer(t, `[ "$n" -ge 2 ]`, `echo "jetstorm test: n2 refuses to start" >&2; exit 1`)
	o, _ := runScenario(t, fmt.Sprintf(`
name: never-healed
seed: 12
cluster: {nodes: 3, sync_interval: always, server: %q}
stream: {replicas: 3}
workload: {clients: 3, rate: 100, duration: 5s}
timeline:
  - {at: 1s, fault: kill, target: n2, for: 1s}
final: {recover: 8s, drain_timeout: 15s}
`, server))
	r := o.Results
	checks := map[string]checker.Verdict{}
	for _, c := range r.Checks {
		checks[c.Name] = c.Verdict
	}
	if r.Verdict != checker.Unknown || o.ExitCode() != 2 || checks["recovery"] != checker.Unknown || checks["crashes"] != checker.Valid {
		t.Errorf("verdict %s (exit %d), checks %v; want unknown (exit 2): recovery unknown, no crash", r.Verdict, o.ExitCode(), checks)
	}
	if e := r.UnrecoveredNodes["n2"]; !strings.Contains(e, "not running") || !strings.Contains(e, "n2 refuses to start") || len(r.UnrecoveredNodes) != 1 {
		t.Errorf("unrecovered nodes %q, want n2 with the end of its log", r.UnrecoveredNodes)
	}
	var sum bytes.Buffer
	r.Summary(&sum)
	if !strings.Contains(sum.String(), "node n2 never recovered: not running; log ends:") {
		t.Errorf("summary does not name n2:\n%s", sum.String())
	}
}
