package scenarios

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"jetstorm/checker"
	"jetstorm/clusters"
	"jetstorm/faults"
	"jetstorm/history"
	"jetstorm/reports"
	"jetstorm/workloads"
)

// RunOptions are the per-invocation settings of a run.
type RunOptions struct {
	OutDir  string       // run directory; default results/<name>/<UTC timestamp>
	Log     *slog.Logger // progress log; default: discard
	Summary io.Writer    // where the summary goes; nil: nowhere
	NodeExe string       // node executable; default: this executable
	// Progress, if set, shows the run's progress there (a bar on a
	// terminal, a log line every 10 s otherwise).
	Progress io.Writer
	// KVWrap wraps every KV client (tests that misbehave on purpose).
	KVWrap func(workloads.KVClient) workloads.KVClient
}

// Outcome is what a run produced.
type Outcome struct {
	Dir     string
	Results *reports.Results
}

// ExitCode is the process exit status for this outcome.
func (o *Outcome) ExitCode() int { return checker.ExitCode(o.Results.Verdict) }

// DefaultOutDir is results/<name>/<UTC timestamp>.
func DefaultOutDir(name string) string {
	return filepath.Join("results", name, time.Now().UTC().Format("20060102T150405Z"))
}

// Run runs a scenario end to end: start the cluster, run the workload with
// faults on the seeded schedule, heal, drain, check, write results.json.
// When ctx is cancelled (Ctrl-C) it stops the load, heals, kills the cluster
// and still checks and writes what was recorded (the verdict is then at
// best unknown, since no drain ran). The error is for failures that
// prevented a verdict at all (no cluster, unwritable directory).
func Run(ctx context.Context, s *Scenario, o RunOptions) (*Outcome, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.OutDir == "" {
		o.OutDir = DefaultOutDir(s.Name)
	}
	if err := checkFresh(o.OutDir); err != nil {
		return nil, err
	}
	// The server binary first: a failed build leaves no run directory.
	serverBin, err := clusters.ServerBinary(ctx, s.Cluster.Server, func(f string, a ...any) { log.Warn(fmt.Sprintf(f, a...)) })
	if err != nil {
		err = s.Errorf("cluster.server", "cluster.server: %w", err)
		var se *clusters.SpecError
		if errors.As(err, &se) {
			return nil, &ConfigError{err}
		}
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	seed := RandomSeed()
	if s.Seed != nil {
		seed = *s.Seed
	}
	s.Seed = &seed
	if b, err := yaml.Marshal(s); err == nil {
		// The resolved scenario (defaults and --set applied, seed filled):
		// `jetstorm run <dir>/scenario.yaml` repeats the run.
		_ = os.WriteFile(filepath.Join(o.OutDir, "scenario.yaml"), b, 0o644)
	}
	log.Info("run", "scenario", s.Name, "seed", seed, "dir", o.OutDir)

	rec, err := history.Create(filepath.Join(o.OutDir, "history.jsonl"), true)
	if err != nil {
		return nil, err
	}
	defer rec.Close()

	log.Info("starting cluster", "nodes", s.Cluster.Nodes, "sync_interval", s.Cluster.SyncIntervalLabel(), "server", cmp.Or(s.Cluster.Server, "embedded"))
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	cluster, err := s.startCluster(sctx, filepath.Join(o.OutDir, "nodes"), o.NodeExe, serverBin)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	defer cluster.Close(context.Background())
	sctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	err = cluster.WaitHealthy(sctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("cluster never became healthy: %w", err)
	}
	version, err := clusters.Version(ctx, cluster)
	if err != nil {
		return nil, fmt.Errorf("server version: %w", err)
	}

	wl := s.workload(o.KVWrap)
	plan := s.PlanFor(seed)
	meta := reports.Meta{
		Scenario: s.Name, ScenarioFile: s.File, Seed: seed, ServerVersion: version,
		SyncInterval: s.Cluster.SyncIntervalLabel(), Nodes: s.Cluster.Nodes,
		Replicas: s.Stream.Replicas, Storage: s.Stream.Storage, Workload: wl.Name(),
		Faults: plan, StartedAt: rec.Start().UTC().Format(time.RFC3339Nano),
	}
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FMeta, Value: meta})

	var runErrs []string
	sctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	err = wl.Setup(sctx, cluster)
	cancel()
	if err != nil {
		return nil, err
	}

	log.Info("workload", "type", wl.Name(), "rate", s.Workload.Rate, "clients", s.Workload.Clients,
		"duration", s.Workload.Duration.D(), "faults", len(plan))
	start := time.Now()
	stopProgress := func() {}
	if o.Progress != nil {
		stopProgress = progress(ctx, s.loadDuration(), rec, o.Progress, log)
	}
	var wg sync.WaitGroup
	var wlErr, faultErr error
	wg.Add(2)
	go func() { defer wg.Done(); wlErr = wl.Run(ctx, cluster, rec) }()
	go func() {
		defer wg.Done()
		faultErr = faults.RunPlan(ctx, cluster, faults.Env{Stream: wl.Stream()}, plan, rec, start, log)
	}()
	wg.Wait()
	stopProgress()
	for _, e := range []error{wlErr, faultErr} {
		if e != nil {
			runErrs = append(runErrs, e.Error())
		}
	}

	if ctx.Err() != nil {
		runErrs = append(runErrs, "interrupted: no final drain, the verdict cannot be valid")
		log.Warn("interrupted; stopping the cluster")
	} else {
		if err := healAll(ctx, cluster, s.Final.Recover.D(), rec, log); err != nil {
			runErrs = append(runErrs, err.Error())
		}
		log.Info("final drain", "timeout", s.Final.DrainTimeout.D())
		dctx, cancel := context.WithTimeout(ctx, s.Final.DrainTimeout.D())
		if err := wl.Drain(dctx, cluster, rec); err != nil {
			runErrs = append(runErrs, err.Error())
		}
		cancel()
		if nd, ok := wl.(workloads.NodeDrainer); ok && s.Final.PerNode {
			log.Info("per-node drain: reading every replica's own copy")
			dctx, cancel := context.WithTimeout(ctx, s.Final.DrainTimeout.D())
			if err := nd.DrainNodes(dctx, cluster, rec); err != nil {
				runErrs = append(runErrs, err.Error())
			}
			cancel()
		}
	}
	cluster.Close(context.Background())
	if err := rec.Err(); err != nil {
		runErrs = append(runErrs, err.Error())
	}

	h := rec.Ops()
	var res *reports.Results
	if bw, ok := wl.(*workloads.BenchWorkload); ok {
		res = benchResults(h, meta, bw, runErrs, rec.Start(), o.OutDir)
	} else {
		verdict, checks := checker.Run(context.Background(), h, Checkers(h, meta.Workload, o.OutDir, s.Check.Timeout.D())...)
		res = reports.Build(h, meta, verdict, checks, runErrs)
	}
	verdict := res.Verdict
	if err := res.WriteJSON(o.OutDir); err != nil {
		return nil, err
	}
	rec.Close() // the report reads history.jsonl
	if err := reports.Write(o.OutDir); err != nil {
		log.Warn("report", "err", err) // the verdict stands without the plots
	}
	if verdict == checker.Valid {
		// Nothing to inspect: drop the stores, keep configs and logs.
		for _, n := range cluster.Nodes() {
			os.RemoveAll(filepath.Join(n.Dir(), "store"))
			os.RemoveAll(filepath.Join(n.Dir(), "store.disk"))
		}
	}
	if o.Summary != nil {
		res.Summary(o.Summary)
		fmt.Fprintf(o.Summary, "  report: %s\n", o.OutDir)
	}
	return &Outcome{Dir: o.OutDir, Results: res}, nil
}

// Checkers are the checks a history of workload gets: queue (and per-node
// when the history has per-node reads), or linearizable for kv, which
// writes porcupine's timeline to dir/history.html; recovery when the
// history has the final heal; and, for every workload, crashes: the check
// of dir's node logs (nodeLogChecker).
func Checkers(h []history.Op, workload, dir string, timeout time.Duration) []checker.Checker {
	var cs []checker.Checker
	if workload == "kv" {
		cs = append(cs, &checker.Linearizable{Timeout: timeout, HTMLPath: filepath.Join(dir, "history.html")})
	} else {
		cs = append(cs, &checker.Queue{})
	}
	cs = append(cs, nodeLogChecker(dir))
	var perNode, recovery bool
	for _, op := range h {
		perNode = perNode || (op.F == history.FNodeDrain && workload != "kv")
		recovery = recovery || op.F == history.FRecover
	}
	if perNode {
		cs = append(cs, &checker.PerNode{})
	}
	if recovery {
		cs = append(cs, &checker.Recovery{})
	}
	return cs
}

// workload builds the scenario's workload.
func (s *Scenario) workload(wrap func(workloads.KVClient) workloads.KVClient) workloads.Workload {
	w := s.Workload
	if w.Type == "bench" {
		var steps []workloads.BenchStep
		for _, st := range w.Steps {
			steps = append(steps, workloads.BenchStep{Rate: st.Rate, Duration: st.Duration.D()})
		}
		bw := &workloads.BenchWorkload{B: workloads.NewBench(workloads.BenchOptions{
			Subjects: w.Subjects, Replicas: s.Stream.Replicas, Memory: s.Stream.Storage == "memory",
			Publishers: w.Publishers, Consumers: *w.Consumers, Payload: w.Payload.Bytes(),
			Steps: steps, Window: w.Window, Timeout: w.Timeout.D(),
		})}
		if cp := s.Capacity; cp != nil {
			bw.Capacity = &workloads.CapacityOptions{SLOP99: cp.SLOP99.D(), Start: cp.Start, Factor: cp.Factor,
				Step: cp.Step.D(), MaxSteps: cp.MaxSteps, Warmup: cp.Warmup.D()}
		}
		return bw
	}
	if w.Type == "kv" {
		return workloads.NewKV(workloads.KVOptions{
			Replicas: s.Stream.Replicas, Memory: s.Stream.Storage == "memory", Keys: w.Keys,
			Clients: w.Clients, Rate: w.Rate, Duration: w.Duration.D(), Timeout: w.Timeout.D(),
			DirectReads: w.DirectReads, Wrap: wrap,
		})
	}
	return workloads.NewQueue(workloads.QueueOptions{
		Replicas: s.Stream.Replicas, Memory: s.Stream.Storage == "memory",
		Clients: w.Clients, Rate: w.Rate, Duration: w.Duration.D(),
		Payload: w.Payload.Bytes(), Timeout: w.Timeout.D(),
	})
}

// loadDuration is how long the workload is scheduled to run.
func (s *Scenario) loadDuration() time.Duration {
	w := s.Workload
	if w.Type != "bench" {
		return w.Duration.D()
	}
	if cp := s.Capacity; cp != nil {
		return cp.Warmup.D() + time.Duration(cp.MaxSteps)*cp.Step.D()
	}
	var d time.Duration
	for _, st := range w.Steps {
		d += st.Duration.D()
	}
	return d
}

// checkFresh requires dir to be missing or empty: a run never writes over
// an earlier one (its history, and its node stores, which a new cluster
// would otherwise start from).
func checkFresh(dir string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return &ConfigError{fmt.Errorf("run directory %s is not empty (an earlier run?): choose another --out or remove it", dir)}
	}
	return nil
}

// ConfigError is a run that could not start because of what the scenario
// says (e.g. a cluster.server version that does not build): a usage error.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// startCluster starts (or, for the external backend, describes) the cluster.
func (s *Scenario) startCluster(ctx context.Context, dir, exe, serverBin string) (clusters.Cluster, error) {
	c := s.Cluster
	if c.Backend == "external" {
		return clusters.NewExternal(c.URLs, c.MonitorURLs)
	}
	return clusters.StartProcess(ctx, clusters.ProcessOptions{
		Dir: dir, Nodes: c.Nodes, SyncInterval: c.SyncInterval.ConfString(), Exe: exe, ServerBinary: serverBin,
		LinkProxies: c.LinkProxies, PowerLossFS: c.PowerLossFS, Writeback: c.Writeback.D(),
	})
}

// PlanFor is the fault schedule a run with this seed uses.
func (s *Scenario) PlanFor(seed uint64) []faults.Planned {
	return s.Plan(rand.New(rand.NewPCG(seed, 0x6a657473746f726d)))
}

// healAll undoes every fault (heals links, resumes paused nodes, restarts
// stopped ones) and waits for the cluster to be healthy within d. The
// outcome goes into the history (FRecover): the checkers judge a cluster
// that never healed as unknown unless an anomaly is proven on what could be
// read, and name the nodes that never recovered.
func healAll(ctx context.Context, c clusters.Cluster, d time.Duration, rec *history.Recorder, log *slog.Logger) error {
	rec.Record(history.Op{Process: -1, Type: history.Invoke, F: history.FRecover})
	hctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var errs []error
	if err := c.Recover(hctx); err != nil {
		errs = append(errs, err)
	}
	if err := c.WaitHealthy(hctx); err != nil {
		errs = append(errs, fmt.Errorf("after healing, within final.recover=%s: %w", d, err))
	}
	err := errors.Join(errs...)
	if err == nil {
		rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FRecover})
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	bad := clusters.HealthErrors(pctx, c.Nodes())
	cancel()
	log.Warn("cluster not healthy after healing", "nodes", bad)
	rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FRecover, Value: bad, Err: err.Error()})
	return err
}

// RandomSeed draws a seed for runs that do not fix one.
func RandomSeed() uint64 {
	var b [8]byte
	_, _ = crand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) >> 11 // fits a float64/JSON number exactly
}
