package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"jetstorm/clusters"
	"jetstorm/faults"
	"jetstorm/history"
)

// controlAPI is the fault API `jetstorm cluster --control` serves: any
// test suite, in any language, injects and heals faults in the cluster
// its application talks to, and every fault goes into a history file as
// a run records it. A request names a fault as a timeline step does
// (kind or fault, target, the kind's own keys, an optional for), and
// faults are injected and healed by the same code a run uses.
type controlAPI struct {
	// ctx is the cluster's: a fault runs to its end even when the client
	// that asked for it hangs up (a rolling upgrade takes minutes).
	ctx     context.Context
	c       clusters.Cluster
	rec     *history.Recorder
	history string // its path
	dir     string
	log     *slog.Logger
	missing func(faults.Needs) string // the flag that would give what a fault needs, "" when it has it
	// execOK allows exec faults (--control-exec): without it the API runs
	// no command of its callers'.
	execOK bool
	// hosts are the Host headers a request may carry: loopback names and
	// the listen address (a web page's request through DNS rebinding
	// names its own host); nil: any (--control-remote).
	hosts   []string
	closing bool // set at shutdown: no new faults

	opMu sync.Mutex // one inject or heal at a time
	mu   sync.Mutex // guards list and ids
	list []*controlFault
	ids  int // fault ids handed out, failed injects too (each its own history process)
}

// controlFault is one fault injected through the API.
type controlFault struct {
	ID        int            `json:"id"`
	State     string         `json:"state"` // active, healed, heal-failed
	Fault     map[string]any `json:"fault"` // as the history records it: kind, spec, nodes, what it did
	Started   time.Time      `json:"started"`
	Healed    *time.Time     `json:"healed,omitempty"`
	HealError string         `json:"heal_error,omitempty"`

	started *faults.Started
	timer   *time.Timer // heals it after its "for", if it has one
}

// controlKeys are the request keys besides the kind's own parameters.
var controlKeys = []string{"kind", "fault", "target", "for", "stream", "consumers", "seed"}

// controlRequest is a POST /faults body, decoded.
type controlRequest struct {
	Step // fault, target, for and the kind's keys
	Env  struct {
		Stream    string   `yaml:"stream"`    // for stream-leader targets
		Consumers []string `yaml:"consumers"` // for pause-consumer
		Seed      *uint64  `yaml:"seed"`      // picks the nodes of a one, minority or majority target
	}
}

func (a *controlAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.HandleFunc("GET /nodes", a.nodes)
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		writeJSON(w, http.StatusOK, append([]*controlFault{}, a.list...)) // [] rather than null when none
	})
	mux.HandleFunc("GET /faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if f := a.find(w, r); f != nil {
			a.mu.Lock()
			defer a.mu.Unlock()
			writeJSON(w, http.StatusOK, f)
		}
	})
	mux.HandleFunc("POST /faults", a.inject)
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		// Heal every active fault: an exec hook's heal needs no id.
		err := a.healAll(false)
		a.mu.Lock()
		defer a.mu.Unlock()
		code := http.StatusOK
		if err != nil {
			code = http.StatusInternalServerError
		}
		writeJSON(w, code, a.list)
	})
	mux.HandleFunc("DELETE /faults/{id}", func(w http.ResponseWriter, r *http.Request) { // heal one
		f := a.find(w, r)
		if f == nil {
			return
		}
		if err := a.heal(f); err != nil {
			a.mu.Lock()
			defer a.mu.Unlock()
			if f.State == "heal-failed" {
				writeJSON(w, http.StatusInternalServerError, f)
			} else {
				apiError(w, http.StatusConflict, "%v", err)
			}
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		writeJSON(w, http.StatusOK, f)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.hosts != nil && !slices.Contains(a.hosts, r.Host) {
			apiError(w, http.StatusForbidden, "Host %q is not this API's (a loopback name or its listen address)", r.Host)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// index says what the API offers, and which kinds this cluster can take.
func (a *controlAPI) index(w http.ResponseWriter, r *http.Request) {
	kinds := map[string]string{}
	for _, k := range faults.Kinds() {
		if flag := a.missing(faults.Registry[k].Needs()); flag != "" {
			kinds[k] = "needs " + flag
		} else {
			kinds[k] = "available"
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"endpoints": []string{
			"GET /nodes", "GET /faults", "GET /faults/{id}",
			`POST /faults {"kind": "partition", "target": "one", "for": "10s", ...}`, "DELETE /faults/{id} (heals)",
			"DELETE /faults (heals every active fault)",
		},
		"kinds":   kinds,
		"history": a.history,
	})
}

func (a *controlAPI) nodes(w http.ResponseWriter, r *http.Request) {
	type node struct {
		Name       string `json:"name"`
		ServerName string `json:"server_name"`
		ClientURL  string `json:"client_url"`
		MonitorURL string `json:"monitor_url"`
		Running    bool   `json:"running"`
		Paused     bool   `json:"paused"`
		Pid        int    `json:"pid,omitempty"`
	}
	var out []node
	for _, n := range a.c.Nodes() {
		out = append(out, node{n.Name(), n.ServerName(), n.ClientURL(), n.MonitorURL(), n.Running(), n.Paused(), n.Pid()})
	}
	writeJSON(w, http.StatusOK, out)
}

// inject serves POST /faults: 400 for a request that is not a fault this
// cluster's nodes can take, 409 naming the flag for a fault the cluster
// was started without (link proxies, powerfs), 422 for one the cluster
// refused (e.g. no stream leader yet), 201 with the fault.
func (a *controlAPI) inject(w http.ResponseWriter, r *http.Request) {
	// A browser sends a cross-site form or text/plain POST without asking
	// first; it must preflight application/json, which this API never allows.
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		apiError(w, http.StatusUnsupportedMediaType, "Content-Type %q: send application/json (curl -H 'Content-Type: application/json')", ct)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		apiError(w, http.StatusBadRequest, "reading the body: %v", err)
		return
	}
	req, err := a.parse(body)
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if req.Fault == "exec" && !a.execOK {
		apiError(w, http.StatusForbidden, "exec runs the caller's commands on this machine: start jetstorm cluster with --control-exec to allow it")
		return
	}
	if flag := a.missing(faults.Registry[req.Fault].Needs()); flag != "" {
		apiError(w, http.StatusConflict, "%s needs what this cluster was started without: start jetstorm cluster with %s", req.Fault, flag)
		return
	}
	seed := rand.Uint64() >> 11
	if req.Env.Seed != nil {
		seed = *req.Env.Seed
	}
	a.opMu.Lock()
	defer a.opMu.Unlock()
	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
		apiError(w, http.StatusServiceUnavailable, "the cluster is stopping")
		return
	}
	a.ids++
	id := a.ids
	a.mu.Unlock()
	p := faults.Planned{For: req.For.D(), Spec: req.spec(), Seed: seed}
	env := faults.Env{Stream: req.Env.Stream, Consumers: req.Env.Consumers, Dir: a.dir}
	st, err := faults.Inject(a.ctx, a.c, env, p, faults.NemesisProcess-(id-1), a.rec, a.log)
	if err != nil {
		apiError(w, http.StatusUnprocessableEntity, "%s not injected: %v", req.Fault, err)
		return
	}
	f := &controlFault{ID: id, State: "active", Fault: st.Desc, Started: time.Now().UTC(), started: st}
	if p.For > 0 {
		f.timer = time.AfterFunc(p.For, func() { _ = a.heal(f) })
	}
	a.mu.Lock()
	a.list = append(a.list, f)
	defer a.mu.Unlock()
	writeJSON(w, http.StatusCreated, f)
}

// parse decodes and checks a POST /faults body (JSON, or YAML).
func (a *controlAPI) parse(body []byte) (*controlRequest, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(body, &n); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New(`the body must be an object: {"kind": "partition", "target": "one", ...}`)
	}
	m := n.Content[0]
	kind := ""
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Value == "kind" {
			k.Value = "fault" // the timeline step's name for it
		}
		if k.Value == "fault" {
			kind = m.Content[i+1].Value
		}
	}
	if _, ok := faults.Registry[kind]; !ok {
		return nil, fmt.Errorf("kind: %q is not a fault kind (known: %s)", kind, strings.Join(faults.Kinds(), ", "))
	}
	allowed := append(slices.Clone(controlKeys), faults.KindStepKeys(kind)...)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i].Value; !slices.Contains(allowed, k) {
			return nil, fmt.Errorf("unknown key %q for %s (known: %s)", k, kind, strings.Join(allowed, ", "))
		}
	}
	var req controlRequest
	if err := errors.Join(m.Decode(&req.Step), m.Decode(&req.Env)); err != nil {
		return nil, err
	}
	if req.For < 0 {
		return nil, errors.New("for: must not be negative")
	}
	var names []string
	for _, nd := range a.c.Nodes() {
		names = append(names, nd.Name())
	}
	sort.Strings(names)
	if err := faults.Check(req.spec(), names); err != nil {
		return nil, err
	}
	return &req, nil
}

// find looks up the fault of the path's id (404 when none).
func (a *controlAPI) find(w http.ResponseWriter, r *http.Request) *controlFault {
	id, err := strconv.Atoi(r.PathValue("id"))
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.list {
		if err == nil && f.ID == id {
			return f
		}
	}
	apiError(w, http.StatusNotFound, "no fault %q (GET /faults lists them)", r.PathValue("id"))
	return nil
}

// heal heals f once; an error when it was healed already or the heal failed.
func (a *controlAPI) heal(f *controlFault) error {
	a.opMu.Lock()
	defer a.opMu.Unlock()
	a.mu.Lock()
	if f.State != "active" {
		defer a.mu.Unlock()
		return fmt.Errorf("fault %d is %s already", f.ID, f.State)
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	a.mu.Unlock()
	err := f.started.Heal()
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now().UTC()
	f.Healed, f.State = &now, "healed"
	if err != nil {
		f.State, f.HealError = "heal-failed", err.Error()
	}
	return err
}

// healAll heals every active fault, oldest first. At shutdown (closing)
// no fault starts after it has begun.
func (a *controlAPI) healAll(closing bool) error {
	a.opMu.Lock() // an inject in progress finishes first, and is in the list
	a.mu.Lock()
	a.closing = a.closing || closing
	list := slices.Clone(a.list)
	a.mu.Unlock()
	a.opMu.Unlock()
	var errs []error
	for _, f := range list {
		a.mu.Lock()
		active := f.State == "active"
		a.mu.Unlock()
		if active {
			errs = append(errs, a.heal(f))
		}
	}
	return errors.Join(errs...)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	_ = e.Encode(v)
}

func apiError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// checkControlAddr refuses a --control address anyone but this machine
// could reach, unless remote: the API can break the cluster.
func checkControlAddr(addr string, remote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--control %q: want HOST:PORT, e.g. 127.0.0.1:7070: %v", addr, err)
	}
	if remote {
		return nil
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("--control %q is not a loopback address: anyone who reaches the API can break the cluster; add --control-remote to allow it", addr)
}

// startControl serves the API on addr until ctx ends; then it heals every
// active fault and closes the history. It returns the API's URL.
func startControl(ctx context.Context, addr string, remote bool, a *controlAPI) (string, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--control: %w", err)
	}
	if !remote {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		a.hosts = []string{ln.Addr().String()}
		for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
			a.hosts = append(a.hosts, h+":"+port)
		}
	}
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
		err := a.healAll(true)
		done <- errors.Join(err, a.rec.Close())
	}()
	return "http://" + ln.Addr().String(), done, nil
}

// missingFlag is the flag of `jetstorm cluster` that gives what a fault
// needs, or "" when the cluster has it.
func missingFlag(o ServeOptions) func(faults.Needs) string {
	return func(n faults.Needs) string {
		var flags []string
		if (n.Links || n.Delay) && !o.LinkProxies {
			flags = append(flags, "--link-proxies")
		}
		if n.PowerFS && !o.PowerLossFS {
			flags = append(flags, "--powerfs")
		}
		if n.ClientLinks && !o.ClientLinks {
			flags = append(flags, "--client-links")
		}
		if (n.Servers || n.System || n.ClientLinks) && o.Backend == "docker" {
			flags = append(flags, "--backend process")
		}
		return strings.Join(slices.Compact(flags), " ")
	}
}
