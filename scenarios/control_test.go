package scenarios

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/checker"
	"jetstorm/clusters"
	"jetstorm/history"
	"jetstorm/powerfs"
)

// call sends an API request and decodes the JSON answer into out.
func call(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
	return resp.StatusCode
}

// The API refuses what it cannot do, saying why, without a live cluster:
// a fault the cluster was started without (409 naming the flag), an
// unknown kind, key or target (400), an unknown id (404); and --control
// listens on loopback only unless told.
func TestControlRefusals(t *testing.T) {
	c, err := clusters.NewExternal([]string{"nats://127.0.0.1:1", "nats://127.0.0.1:2", "nats://127.0.0.1:3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := history.Create(filepath.Join(t.TempDir(), history.FileName), false)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	a := &controlAPI{ctx: context.Background(), c: c, rec: rec, dir: t.TempDir(), log: slog.New(slog.DiscardHandler), missing: missingFlag(ServeOptions{Backend: "process", LinkProxies: true})}
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	var idx struct{ Kinds map[string]string }
	call(t, "GET", srv.URL+"/", "", &idx)
	if idx.Kinds["powerloss"] != "needs --powerfs" || idx.Kinds["partition"] != "available" {
		t.Errorf("GET / kinds %v", idx.Kinds)
	}
	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`{"kind": "powerloss", "target": "all"}`, 409, "start jetstorm cluster with --powerfs"},
		{`{"kind": "client-partition", "target": "n1"}`, 409, "--client-links"},
		{`{"kind": "explode"}`, 400, `"explode" is not a fault kind`},
		{`{"kind": "partition", "target": "n1", "bogus": 1}`, 400, `unknown key "bogus" for partition`},
		{`{"kind": "kill", "target": "n9"}`, 400, `"n9" is not a target`},
		{`{"kind": "kill", "for": "-1s"}`, 400, "must not be negative"},
		{`{"fault": "exec", "target": "n1"}`, 400, "exec needs an inject command"},
		{`{"kind": "exec", "target": "n1", "inject": "id"}`, 403, "--control-exec"},
		{`[1, 2]`, 400, "must be an object"},
	} {
		var e struct{ Error string }
		if code := call(t, "POST", srv.URL+"/faults", tc.body, &e); code != tc.code || !strings.Contains(e.Error, tc.want) {
			t.Errorf("POST %s: %d %q, want %d and %q", tc.body, code, e.Error, tc.code, tc.want)
		}
	}
	// What a web page could send: a simple POST, or a rebound host name.
	resp, err := http.Post(srv.URL+"/faults", "text/plain", strings.NewReader(`{"kind": "kill", "target": "n1"}`))
	if err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("a text/plain POST: %v %v, want 415", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	a.hosts = []string{"127.0.0.1:1"}
	if code := call(t, "GET", srv.URL+"/nodes", "", nil); code != http.StatusForbidden {
		t.Errorf("a request for another Host: %d, want 403", code)
	}
	a.hosts = nil
	var none []controlFault
	if code := call(t, "GET", srv.URL+"/faults", "", &none); code != 200 || none == nil || len(none) != 0 {
		t.Errorf("GET /faults with none: %d %v, want 200 []", code, none)
	}
	if code := call(t, "DELETE", srv.URL+"/faults/7", "", nil); code != 404 {
		t.Errorf("DELETE an unknown fault: %d, want 404", code)
	}
	for addr, ok := range map[string]bool{"127.0.0.1:0": true, "localhost:7070": true, "[::1]:1": true, "0.0.0.0:7070": false, ":7070": false, "10.1.2.3:7070": false, "nope": false} {
		if err := checkControlAddr(addr, false); (err == nil) != ok {
			t.Errorf("--control %s: %v", addr, err)
		}
	}
	if err := checkControlAddr("0.0.0.0:7070", true); err != nil {
		t.Errorf("--control-remote: %v", err)
	}
}

// servedCluster is a `jetstorm cluster --control` kept up by Serve.
type servedCluster struct {
	urls, monitors []string
	control        string
	stop           context.CancelFunc
	done           chan struct{} // closed when Serve has returned (err)
	err            error
}

func serveControlled(t *testing.T, dir string) *servedCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	pr, pw := io.Pipe()
	sc := &servedCluster{stop: cancel, done: make(chan struct{})}
	go func() {
		sc.err = Serve(ctx, ServeOptions{Dir: dir, Nodes: 3, LinkProxies: true, PowerLossFS: true, Control: "127.0.0.1:0"}, pw, nil)
		pw.Close()
		close(sc.done)
	}()
	list := func(s string) []string { return strings.Split(strings.TrimSuffix(s, "]"), ", ") }
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		l := lines.Text()
		if v, ok := strings.CutPrefix(l, "urls: ["); ok {
			sc.urls = list(v)
		}
		if v, ok := strings.CutPrefix(l, "monitor_urls: ["); ok {
			sc.monitors = list(v)
		}
		if v, ok := strings.CutPrefix(l, "control: "); ok {
			sc.control, _, _ = strings.Cut(v, " ")
		}
		if strings.HasPrefix(l, "Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if sc.control == "" || len(sc.urls) != 3 {
		cancel()
		<-sc.done
		t.Fatalf("serve printed no control URL or URLs (%v): %v", sc.urls, sc.err)
	}
	t.Cleanup(func() { cancel(); <-sc.done })
	return sc
}

// routeInBytes is what a node has received over its routes (/routez).
func routeInBytes(t *testing.T, monitor string) int64 {
	t.Helper()
	var rz struct {
		Routes []struct {
			InBytes int64 `json:"in_bytes"`
		} `json:"routes"`
	}
	if code := call(t, "GET", monitor+"/routez", "", &rz); code != 200 {
		t.Fatalf("%s/routez: %d", monitor, code)
	}
	var sum int64
	for _, r := range rz.Routes {
		sum += r.InBytes
	}
	return sum
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func healthy(monitors []string) bool {
	for _, m := range monitors {
		resp, err := http.Get(m + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return false
		}
	}
	return true
}

// The fault API on a live `jetstorm cluster --control`: a partition cuts
// every route byte to the isolated node until it is healed; a power loss
// takes the nodes down, drops their unsynced bytes and restarts them on
// heal; both are in the cluster's history. Then scenarios run against it
// through backend external, with exec hooks that call the API: one sees
// its faults in both histories and gets a verdict (and its stream is
// deleted after); one whose inject fails stops at once with the hook's
// log named, its heal run; and one whose cluster goes away mid-run stops
// with the cluster lost.
func TestControlLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real 3-node cluster; skipped with -short")
	}
	powerfs.NeedInTest(t)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the exec hooks of this test call the API with curl: install it (.ci/run does)")
	}
	dir := t.TempDir()
	sc := serveControlled(t, dir)
	api := sc.control

	// Traffic on an R3 stream through n2, so n1 hears its routes.
	nc, err := nats.Connect(sc.urls[1])
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ctl", Subjects: []string{"ctl.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	cancel()
	pubCtx, stopPub := context.WithCancel(context.Background())
	defer stopPub()
	go func() {
		for pubCtx.Err() == nil {
			_ = nc.Publish("ctl.x", []byte("x"))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	grows := func(m string) bool {
		a := routeInBytes(t, m)
		time.Sleep(3 * time.Second)
		return routeInBytes(t, m) > a
	}
	if !grows(sc.monitors[0]) {
		t.Fatal("n1 receives no route bytes before the partition: the check below could not fail")
	}
	var f controlFault
	if code := call(t, "POST", api+"/faults", `{"kind": "partition", "target": "n1"}`, &f); code != 201 || f.State != "active" {
		t.Fatalf("POST partition: %d %+v", code, f)
	}
	time.Sleep(time.Second) // bytes already inside the proxy
	if grows(sc.monitors[0]) {
		t.Error("n1 still receives route bytes while partitioned off")
	}
	if code := call(t, "DELETE", fmt.Sprintf("%s/faults/%d", api, f.ID), "", &f); code != 200 || f.State != "healed" {
		t.Fatalf("DELETE partition: %d %+v", code, f)
	}
	waitFor(t, time.Minute, "n1 hears its routes again", func() bool { return grows(sc.monitors[0]) })
	stopPub()

	var nodes []struct {
		Name    string
		Running bool
		Pid     int
	}
	call(t, "GET", api+"/nodes", "", &nodes)
	pid := nodes[0].Pid
	if code := call(t, "POST", api+"/faults", `{"kind": "powerloss", "target": "n1"}`, &f); code != 201 {
		t.Fatalf("POST powerloss: %d %+v", code, f)
	}
	if _, ok := f.Fault["unsynced_bytes_lost"]; !ok {
		t.Errorf("powerloss reports no unsynced bytes lost: %v", f.Fault)
	}
	call(t, "GET", api+"/nodes", "", &nodes)
	if nodes[0].Running {
		t.Error("n1 runs during its power loss")
	}
	if code := call(t, "DELETE", fmt.Sprintf("%s/faults/%d", api, f.ID), "", &f); code != 200 {
		t.Fatalf("DELETE powerloss: %d %+v", code, f)
	}
	call(t, "GET", api+"/nodes", "", &nodes)
	if !nodes[0].Running || nodes[0].Pid == pid {
		t.Errorf("n1 after the power loss healed: %+v (pid before %d)", nodes[0], pid)
	}
	waitFor(t, time.Minute, "the cluster healthy again", func() bool { return healthy(sc.monitors) })
	if ops := faultOps(t, filepath.Join(dir, history.FileName)); !slices.Equal(ops, []string{"invoke partition", "ok partition", "invoke powerloss", "ok powerloss"}) {
		t.Errorf("the cluster's history: %v", ops)
	}

	// A scenario through backend external, its faults exec hooks that ask
	// the API for a kill.
	cluster := fmt.Sprintf("cluster: {backend: external, urls: [%s], monitor_urls: [%s]}\n", strings.Join(sc.urls, ", "), strings.Join(sc.monitors, ", "))
	// The inject also leaves a process behind, which must not outlive it.
	hooks := fmt.Sprintf(`inject: 'curl -sf --json "{\"kind\": \"kill\", \"target\": \"$JETSTORM_NODE\"}" %s/faults && (sleep 4321 &)', heal: 'curl -sf -XDELETE %s/faults'`, api, api)
	o := runYAML(t, "name: control-exec\n"+cluster+
		"workload: {type: queue, clients: 3, rate: 100, duration: 12s}\n"+
		"timeline:\n  - {at: 3s, fault: exec, for: 4s, target: n1, "+hooks+"}\n", RunOptions{})
	if o.Err != nil || o.Results.Verdict != checker.Valid {
		t.Errorf("exec run: verdict %s, err %v, want valid", o.Results.Verdict, o.Err)
	}
	if ops := faultOps(t, filepath.Join(o.Dir, history.FileName)); !slices.Equal(ops, []string{"invoke exec", "ok exec"}) {
		t.Errorf("the run's history: %v", ops)
	}
	if ops := faultOps(t, filepath.Join(dir, history.FileName)); !slices.Equal(ops[4:], []string{"invoke kill", "ok kill"}) {
		t.Errorf("the cluster's history after the run: %v", ops)
	}
	if left := clusters.ProcessesMentioning("sleep 4321"); len(left) > 0 {
		t.Errorf("what the inject hook left in the background outlived it: %v", left)
	}
	if b, err := os.ReadFile(filepath.Join(o.Dir, "exec", "1-n1-inject.log")); err != nil || !strings.Contains(string(b), `"kind": "kill"`) {
		t.Errorf("the inject hook's output: %q %v", b, err)
	}
	l := js.StreamNames(context.Background())
	for name := range l.Name() {
		if strings.HasPrefix(name, "jetstorm-") {
			t.Errorf("stream %s is left on the cluster after a valid run", name)
		}
	}

	// An inject that fails stops the run: exit 3, naming its log; the
	// heal of its node ran.
	start := time.Now()
	o = runYAML(t, "name: control-exec-fails\n"+cluster+
		"workload: {type: queue, clients: 1, rate: 20, duration: 60s}\n"+
		"timeline:\n  - {at: 1s, fault: exec, for: 4s, target: n2, inject: 'echo boom; exit 7', heal: 'touch \"$JETSTORM_RUN_DIR/healed-$JETSTORM_NODE\"'}\n", RunOptions{})
	var ce *ConfigError
	if !errors.As(o.Err, &ce) || !strings.Contains(o.Err.Error(), "exit status 7") || !strings.Contains(o.Err.Error(), "1-n2-inject.log (last line: boom)") {
		t.Errorf("a failing inject: %v, want a ConfigError naming its log and last line", o.Err)
	}
	if time.Since(start) > 45*time.Second {
		t.Errorf("the run went on for %s after its inject failed", time.Since(start).Round(time.Second))
	}
	if _, err := os.Stat(filepath.Join(o.Dir, "healed-n2")); err != nil {
		t.Errorf("the heal did not run after the inject failed: %v", err)
	}
	if o.Results.Verdict == checker.Valid {
		t.Error("a run stopped by its fault hook is valid")
	}

	// Ctrl-C while an inject hook still runs: the hook's process group is
	// killed (nothing it started is left), its heal runs, the run ends.
	s, err := Parse([]byte("name: control-exec-interrupted\n"+cluster+
		"workload: {type: queue, clients: 1, rate: 20, duration: 60s}\n"+
		"timeline:\n  - {at: 1s, fault: exec, for: 30s, target: n3, inject: 'sleep 1234 & wait', heal: 'touch \"$JETSTORM_RUN_DIR/healed\"'}\n"), "int.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	ictx, icancel := context.WithCancel(context.Background())
	intDir := t.TempDir()
	ires := make(chan error, 1)
	go func() { _, err := Run(ictx, s, RunOptions{OutDir: intDir}); ires <- err }()
	waitFor(t, time.Minute, "the inject hook running", func() bool { return len(clusters.ProcessesMentioning("sleep 1234")) > 0 })
	icancel()
	select {
	case err := <-ires:
		if err != nil {
			t.Errorf("interrupted run: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the run did not end within a minute of Ctrl-C")
	}
	if _, err := os.Stat(filepath.Join(intDir, "healed")); err != nil {
		t.Errorf("no heal after Ctrl-C during the inject: %v", err)
	}
	if left := clusters.ProcessesMentioning("sleep 1234"); len(left) > 0 {
		t.Errorf("the inject hook's processes outlived the run: %v", left)
	}

	// The cluster goes away mid-run: the run stops, the cluster lost.
	type result struct {
		o   *Outcome
		err error
	}
	got := make(chan result, 1)
	s, err = Parse([]byte("name: control-lost\n"+cluster[:len(cluster)-2]+", lost_after: 3s}\nworkload: {type: queue, clients: 2, rate: 20, duration: 90s}\n"), "lost.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer rcancel()
	runDir := t.TempDir()
	go func() {
		o, err := Run(rctx, s, RunOptions{OutDir: runDir})
		got <- result{o, err}
	}()
	waitFor(t, time.Minute, "the run writing", func() bool {
		b, _ := os.ReadFile(filepath.Join(runDir, history.FileName))
		return strings.Count(string(b), "\n") > 20
	})
	sc.stop()
	<-sc.done
	select {
	case r := <-got:
		if r.err != nil || r.o.Err == nil || !strings.Contains(r.o.Err.Error(), "lost the cluster") || errors.As(r.o.Err, &ce) {
			t.Errorf("a lost cluster: %v, %v; want an outcome stopped by the cluster lost", r.err, r.o)
		} else if r.o.Results.Verdict == checker.Valid {
			t.Error("a run that lost its cluster is valid")
		}
	case <-time.After(90 * time.Second):
		t.Fatal("the run did not stop within 90s of losing its cluster")
	}
}

// faultOps lists a history's fault ops as "invoke kill", "ok kill".
func faultOps(t *testing.T, path string) []string {
	t.Helper()
	h, err := history.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, op := range h {
		if op.F == history.FFault {
			var v struct{ Kind string }
			_ = op.Decode(&v)
			out = append(out, string(op.Type)+" "+v.Kind)
		}
	}
	return out
}
