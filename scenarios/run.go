package scenarios

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
	// Compress writes the history gzip-compressed (history.jsonl.gz),
	// flushed every second instead of at every op.
	Compress bool
	// Shard and Shards (bench): this generator runs shard Shard (0-based)
	// of Shards of the bench, whose schedule starts at StartAt (all
	// shards' alike); see workloads.BenchOptions.
	Shard, Shards int
	StartAt       time.Time
	// KVWrap wraps every KV client (tests that misbehave on purpose).
	KVWrap func(workloads.KVClient) workloads.KVClient
	// ConsumeHide makes a consumer client ack a delivery without
	// recording it when it returns true (tests that misbehave on purpose).
	ConsumeHide func(history.Delivery) bool
	// BatchBreak makes a batch client commit a batch without its last
	// message when it returns true (tests).
	BatchBreak func(id string) bool
	// CounterDouble makes a counter client send an increment twice and
	// record it once when it returns true (tests).
	CounterDouble func(id string) bool
	// TTLSent is the TTL a ttl client really sends for one it records
	// (tests: a shorter one expires early).
	TTLSent func(time.Duration) time.Duration
	// ScheduleDouble makes a schedule client publish a second schedule
	// with the same target when it returns true, recording one (tests).
	ScheduleDouble func(id string) bool
	// WatchDrop makes watcher w leave out an update it was delivered when
	// it returns true (tests: a gap).
	WatchDrop func(watcher int, rev uint64) bool
	// MirrorHide makes the mirror workload's final read leave out a
	// message of a stream when it returns true (tests: a gap).
	MirrorHide func(stream string, seq uint64) bool
	// ObjectsTamper makes an objects client write different bytes than it
	// records for the puts (by op) it returns true for (tests).
	ObjectsTamper func(op string) bool
	// PinTamper may change a pinned member's delivery before it is
	// recorded (tests: a member that records another pin id than the
	// server sent).
	PinTamper func(member int, d *history.Delivery)
}

// Outcome is what a run produced.
type Outcome struct {
	Dir     string
	Results *reports.Results
	// Err is what stopped the run early, after which what was recorded
	// was still checked: a fault hook that failed (a *ConfigError, exit
	// 3) or an external cluster lost (exit 2).
	Err error
}

// ExitCode is the process exit status for this outcome (see Err).
func (o *Outcome) ExitCode() int { return checker.ExitCode(o.Results.Verdict) }

// DefaultOutDir is results/<name>/<UTC timestamp>.
func DefaultOutDir(name string) string {
	return filepath.Join("results", name, time.Now().UTC().Format("20060102T150405Z"))
}

// Run runs a scenario end to end: start the cluster, run the workload with
// faults on the seeded schedule, heal, drain, then finish (check, results,
// report, summary: the path `jetstorm check` takes too). When ctx is
// cancelled (Ctrl-C) it stops the load, heals, kills the cluster and still
// checks and writes what was recorded (the verdict is then at best unknown,
// since no drain ran). The error is for failures that prevented a verdict
// at all (no cluster, unwritable directory).
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
	if bad := s.Cluster.Auth.Unreadable(); len(bad) > 0 {
		var errs []error
		for _, k := range slices.Sorted(maps.Keys(bad)) {
			errs = append(errs, s.Errorf("cluster."+k, "cluster.%s: %v", k, bad[k]))
		}
		return nil, &ConfigError{errors.Join(errs...)}
	}
	kind := s.kind()
	cfg := s.clusterConfig(filepath.Join(o.OutDir, "nodes"), o.NodeExe)
	// Backends say what takes long (a build) or what they cleaned up.
	cfg.Logf = func(f string, a ...any) { log.Warn(fmt.Sprintf(f, a...)) }
	if s.Cluster.stan() {
		bin, err := clusters.STANBinary(ctx, s.Cluster.STAN.Server, func(f string, a ...any) { log.Warn(fmt.Sprintf(f, a...)) })
		if err != nil {
			return nil, serverError(s, err)
		}
		cfg.ServerBinary = bin
	} else if cfg.Backend != "external" {
		// The server binary first: a failed build leaves no run directory.
		bin, err := clusters.ServerBinary(ctx, s.Cluster.Server, func(f string, a ...any) { log.Warn(fmt.Sprintf(f, a...)) })
		if err != nil {
			return nil, serverError(s, err)
		}
		cfg.ServerBinary = bin
		// Every other server the run needs, built now too: each node's own
		// (cluster.servers) and each upgrade's target.
		for _, spec := range s.otherServers() {
			if _, err := clusters.ServerBinary(ctx, spec, func(f string, a ...any) { log.Warn(fmt.Sprintf(f, a...)) }); err != nil {
				return nil, serverError(s, err)
			}
		}
	}
	_, statErr := os.Stat(o.OutDir)
	created := errors.Is(statErr, fs.ErrNotExist)
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	seed := RandomSeed()
	if s.Seed != nil {
		seed = *s.Seed
	}
	s.Seed = &seed
	if b, err := yaml.Marshal(redacted(s)); err == nil {
		// The resolved scenario (defaults and --set applied, seed filled):
		// `jetstorm run <dir>/scenario.yaml` repeats the run (an external
		// cluster's passwords aside: they are not written).
		_ = os.WriteFile(filepath.Join(o.OutDir, "scenario.yaml"), b, 0o644)
	}
	log.Info("run", "scenario", s.Name, "seed", seed, "dir", o.OutDir)

	var rec *history.Recorder
	var err error
	if o.Compress {
		rec, err = history.CreateCompressed(filepath.Join(o.OutDir, history.CompressedFileName))
	} else {
		rec, err = history.Create(filepath.Join(o.OutDir, history.FileName), false)
	}
	if err != nil {
		return nil, err
	}
	defer rec.Close()
	stopRSS := sampleRSS(o.OutDir)
	rssStopped := false
	defer func() {
		if !rssStopped {
			stopRSS()
		}
	}()

	server := cmp.Or(s.Cluster.Server, "embedded")
	if len(s.Cluster.Servers) > 0 {
		server = strings.Join(s.Cluster.Servers, " ")
	}
	if s.Cluster.Image != "" {
		server = "image " + s.Cluster.Image
	}
	if s.Cluster.stan() {
		server = "nats-streaming-server " + cmp.Or(s.Cluster.STAN.Server, clusters.STANDefaultVersion)
	}
	if s.Cluster.Backend == "external" {
		log.Info("connecting to an external cluster", "nodes", s.Cluster.Nodes)
	} else {
		log.Info("starting cluster", "nodes", s.Cluster.Nodes, "sync_interval", s.Cluster.SyncIntervalLabel(), "server", server)
	}
	cluster, version, err := clusters.Start(ctx, cfg)
	if err != nil {
		var se *clusters.SpecError
		if errors.As(err, &se) { // e.g. a cluster.image the engine lacks, an external URL that does not answer
			if s.Cluster.Backend == "external" {
				err = fmt.Errorf("%s: %w", s.Pos("cluster.urls"), err)
			}
			if created {
				// Nothing ran: leave no directory that a retry with the
				// same --out would find not empty.
				os.RemoveAll(o.OutDir)
			}
			return nil, &ConfigError{err}
		}
		return nil, err
	}
	defer cluster.Close(context.Background())

	external := s.Cluster.Backend == "external"
	if external && !s.Cluster.KeepStream {
		// Other users' streams share an external cluster: never reuse a name.
		s.stream = uniqueStream(o)
		log.Info("stream", "name", s.stream, "deleted after the run", o.Shards == 0)
	}
	// The run's stream goes when the run does, however it ends (a failed
	// setup too), unless keep says why it stays. Its shards may still read
	// a sharded bench's stream.
	var keep string
	if external && s.stream != "" && o.Shards == 0 {
		defer func() {
			if keep != "" {
				log.Warn("the stream stays on the cluster ("+keep+")", "stream", s.stream)
			} else if err := deleteStreams(cluster, s.stream); err != nil {
				log.Warn("could not delete the run's stream", "stream", s.stream, "err", err)
			}
		}()
	}
	wl := kind.New(s, o)
	plan := s.PlanFor(seed)
	meta := history.Meta{
		Scenario: s.Name, ScenarioFile: s.File, Seed: seed, ServerVersion: version,
		SyncInterval: s.Cluster.SyncIntervalLabel(), Nodes: s.Cluster.Nodes,
		Replicas: s.Stream.Replicas, Storage: s.Stream.Storage, Workload: s.Workload.Type,
		Faults: plan, StartedAt: rec.Start().UTC().Format(time.RFC3339Nano),
	}
	if s.Cluster.stan() {
		meta.System = "stan"
	}
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FMeta, Value: meta})

	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	err = wl.Setup(sctx, cluster)
	cancel()
	if err != nil {
		return nil, err
	}
	runErrs, stopped := s.drive(ctx, wl, cluster, plan, rec, kind, o, log)
	if !external { // an external cluster stays open: its stream is deleted after the check
		cluster.Close(context.Background())
	}
	if kind.Save != nil {
		if err := kind.Save(wl, SaveOptions{Dir: o.OutDir, Origin: rec.Start(), Scenario: s.Name}); err != nil {
			runErrs = append(runErrs, err)
		}
	}
	if err := rec.Err(); err != nil {
		runErrs = append(runErrs, err)
	}
	for _, e := range runErrs {
		rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FRunError, Err: e.Error()})
	}
	fo := FinishOptions{CheckTimeout: s.Check.Timeout.D(), Log: log}
	if err := rec.Close(); err != nil { // finish reads history.jsonl
		// The file may lack the run errors: hand them over too.
		for _, e := range append(runErrs, err) {
			fo.RunErrs = append(fo.RunErrs, e.Error())
		}
	}
	res, err := Finish(context.Background(), o.OutDir, fo)
	rssStopped = true
	peak := stopRSS()
	if err != nil {
		return nil, err
	}
	if peak > 0 {
		log.Info("jetstorm's own memory", "peak_rss_mib", peak>>20, "file", RSSFile)
	}
	var hookErr *ConfigError
	switch {
	case res.Verdict == checker.Invalid:
		keep = "kept for inspection: the run is invalid"
	case stopped != nil && !errors.As(stopped, &hookErr):
		keep = "the cluster was lost mid-run: delete it when it is back"
	}
	if res.Verdict == checker.Valid || res.Verdict == checker.None {
		// Nothing to inspect: drop the stores, keep configs and logs.
		for _, n := range cluster.Nodes() {
			os.RemoveAll(filepath.Join(n.Dir(), "store"))
			os.RemoveAll(filepath.Join(n.Dir(), "store.disk"))
		}
	}
	if o.Summary != nil {
		PrintSummary(o.Summary, res)
		fmt.Fprintf(o.Summary, "  report: %s\n", o.OutDir)
	}
	return &Outcome{Dir: o.OutDir, Results: res, Err: stopped}, nil
}

// drive runs the load and the faults side by side, then (unless ctx ended)
// heals every fault and reads back what the cluster holds. It returns the
// run's errors, and what stopped it early, if anything did: a fault hook
// that failed (a *ConfigError) or an external cluster lost.
func (s *Scenario) drive(ctx context.Context, wl workloads.Workload, cluster clusters.Cluster, plan []faults.Planned,
	rec *history.Recorder, kind *Kind, o RunOptions, log *slog.Logger) ([]error, error) {
	var runErrs []error
	log.Info("workload", "type", s.Workload.Type, "rate", s.Workload.Rate, "clients", s.Workload.Clients,
		"duration", s.Workload.Duration.D(), "faults", len(plan))
	start := time.Now()
	stopProgress := func() {}
	if o.Progress != nil {
		stopProgress = progress(ctx, s.loadDuration(), rec, kind.Progress, o.Progress, log)
	}
	var wg sync.WaitGroup
	var wlErr, faultErr error
	env := faults.Env{Stream: wl.Stream(), Dir: o.OutDir}
	if wc, ok := wl.(workloads.WithConsumers); ok {
		env.Consumers = wc.Consumers()
	}
	// The load stops early on a fault hook that fails (FatalError) and on
	// an external cluster lost (watchLost): lctx's cause says which.
	lctx, stopLoad := context.WithCancelCause(ctx)
	defer stopLoad(nil)
	wg.Add(2)
	go func() { defer wg.Done(); wlErr = wl.Run(lctx, cluster, rec) }()
	go func() {
		defer wg.Done()
		faultErr = faults.RunPlan(lctx, cluster, env, plan, rec, start, log)
		if fatal := (*faults.FatalError)(nil); errors.As(faultErr, &fatal) {
			stopLoad(&ConfigError{fatal})
		}
	}()
	if s.Cluster.Backend == "external" {
		go func() {
			if err := clusters.WatchLost(lctx, cluster, s.Cluster.LostAfter.D()); err != nil {
				stopLoad(err)
			}
		}()
	}
	wg.Wait()
	stopProgress()
	for _, e := range []error{wlErr, faultErr} {
		if e != nil {
			runErrs = append(runErrs, e)
		}
	}
	if ctx.Err() != nil {
		log.Warn("interrupted; stopping the cluster")
		return append(runErrs, errors.New("interrupted: no final drain, the verdict cannot be valid")), nil
	}
	if cause := context.Cause(lctx); lctx.Err() != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		log.Error("run stopped", "err", cause)
		if !errors.As(faultErr, new(*faults.FatalError)) {
			runErrs = append(runErrs, cause)
		}
		return append(runErrs, errors.New("stopped early: no final drain, the verdict cannot be valid")), cause
	}
	if err := healAll(ctx, cluster, s.Final.Recover.D(), rec, log); err != nil {
		runErrs = append(runErrs, err)
	}
	log.Info("final drain", "timeout", s.Final.DrainTimeout.D())
	dctx, cancel := context.WithTimeout(ctx, s.Final.DrainTimeout.D())
	if err := wl.Drain(dctx, cluster, rec); err != nil {
		runErrs = append(runErrs, err)
	}
	cancel()
	if nd, ok := wl.(workloads.NodeDrainer); ok && s.Final.PerNode {
		// Each node's copy is read whole (one message per request, from the
		// node made leader), so each gets the main drain's budget.
		budget := s.Final.DrainTimeout.D() * time.Duration(len(cluster.Nodes()))
		log.Info("per-node drain: reading every replica's own copy", "timeout", budget)
		dctx, cancel := context.WithTimeout(ctx, budget)
		if err := nd.DrainNodes(dctx, cluster, rec); err != nil {
			runErrs = append(runErrs, err)
		}
		cancel()
	}
	return runErrs, nil
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

// clusterConfig is the cluster section as the cluster start path takes it.
func (s *Scenario) clusterConfig(dir, exe string) clusters.Config {
	c := s.Cluster
	return clusters.Config{
		Backend: c.Backend, Server: c.Server, Servers: c.Servers, Image: c.Image, URLs: c.URLs, MonitorURLs: c.MonitorURLs, Auth: c.Auth,
		ProcessOptions: clusters.ProcessOptions{
			Dir: dir, Nodes: c.Nodes, SyncInterval: c.SyncInterval.ConfString(), Exe: exe,
			LinkProxies: c.LinkProxies, PowerLossFS: c.PowerLossFS, Writeback: c.Writeback.D(), ClientLinks: c.ClientLinks,
			// A slowlink: on docker, every route link goes through a proxy.
			DelayLinks: c.LinkProxies && s.needs().Delay,
			SystemUser: s.needs().System,
			STAN:       c.stanOptions(),
		},
	}
}

// serverError is the error of a cluster.server that did not build: a
// usage error when the value itself cannot work.
func serverError(s *Scenario, err error) error {
	key := "cluster.server"
	if s.Cluster.stan() {
		key = "cluster.stan.server"
	}
	err = s.Errorf(key, "%s: %w", key, err)
	var se *clusters.SpecError
	if errors.As(err, &se) {
		return &ConfigError{err}
	}
	return err
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

// uniqueStream names a run's stream on an external cluster:
// jetstorm-<UTC start>-<random>, or for a sharded bench jetstorm-<start-at>,
// which every shard computes alike.
func uniqueStream(o RunOptions) string {
	if o.Shards > 0 {
		return "jetstorm-" + o.StartAt.UTC().Format("20060102T150405Z")
	}
	var b [3]byte
	_, _ = crand.Read(b[:])
	return fmt.Sprintf("jetstorm-%s-%x", time.Now().UTC().Format("20060102T150405Z"), b)
}

// deleteStreams deletes what a run created on an external cluster: the
// stream name, its KV bucket's stream KV_name, and a bench's extra
// streams name-<k>.
func deleteStreams(c clusters.Cluster, name string) error {
	nc, err := clusters.Connect(strings.Join(clusters.ClientURLs(c), ","), nats.Timeout(5*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	l := js.StreamNames(ctx)
	for st := range l.Name() {
		if st == name || st == "KV_"+name || strings.HasPrefix(st, name+"-") {
			errs = append(errs, js.DeleteStream(ctx, st))
		}
	}
	return errors.Join(append(errs, l.Err())...)
}

// RandomSeed draws a seed for runs that do not fix one.
func RandomSeed() uint64 {
	var b [8]byte
	_, _ = crand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) >> 11 // fits a float64/JSON number exactly
}

// redacted is s for saving: its external cluster URLs and login without
// passwords (files stay named by path).
func redacted(s *Scenario) *Scenario {
	c := *s
	c.Cluster.URLs = slices.Clone(s.Cluster.URLs)
	c.Cluster.MonitorURLs = slices.Clone(s.Cluster.MonitorURLs)
	c.Cluster.Auth = s.Cluster.Auth.Redacted()
	for _, us := range [][]string{c.Cluster.URLs, c.Cluster.MonitorURLs} {
		for i, u := range us {
			us[i] = clusters.RedactURL(u)
		}
	}
	return &c
}
