package faults

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"jetstorm/clusters"
)

// Exec runs the user's own commands as a fault: inject on the way in and
// heal on the way out, once per target node (in node order), each with
// `sh -c` in jetstorm's working directory. It is how a cluster jetstorm
// does not own (backend: external) takes faults: the commands call
// whatever does chaos there (kubectl and Chaos Mesh manifests, a cloud
// CLI, `jetstorm cluster --control`'s API). Each command's environment
// names its node (see execEnv); its output goes to
// <run dir>/exec/<fault id>-<node>-<inject|heal>.log. A failing inject
// is a FatalError: the heals of the nodes it reached run at once and the
// run stops (exit 3), for a hook that does not work makes every later
// fault a guess.
type Exec struct{}

// ExecParams are an exec fault's commands (keys inject, heal).
type ExecParams struct {
	Inject string `yaml:"inject" json:"inject,omitempty"`
	Heal   string `yaml:"heal" json:"heal,omitempty"` // "": nothing to undo (e.g. a pod kill the cluster heals itself)
}

// FatalError is a fault error that ends the run (RunPlan stops, and
// heals what it started): the scenario cannot be carried out as written.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

func (Exec) Name() string                             { return "exec" }
func (Exec) Needs() Needs                             { return Needs{} }
func (Exec) StepParams() any                          { return &ExecParams{} }
func (Exec) RandomParams() any                        { return &ExecParams{} }
func (Exec) Draw(_ *rand.Rand, random any) Params     { return *random.(*ExecParams) }
func (Exec) CheckRandom(random any, _ []string) error { return nil } // inject is required only when exec is drawn (scenario validation)

func (Exec) Check(s Spec, nodes []string) error {
	if err := checkTarget(s.Target, nodes); err != nil {
		return err
	}
	if strings.TrimSpace(paramsOf[ExecParams](s).Inject) == "" {
		return fieldErr("inject", "exec needs an inject command")
	}
	return nil
}

// execHookTimeout bounds one inject command (heals: healWithin).
const execHookTimeout = 2 * time.Minute

func (Exec) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	p := paramsOf[ExecParams](s)
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "one", rng)
	if err != nil {
		return nil, err
	}
	var reached []clusters.Node
	heal := func(hctx context.Context) error {
		if p.Heal == "" {
			return nil
		}
		var errs []error
		for _, n := range reached {
			errs = append(errs, runHook(hctx, c, env, n, names, "heal", p.Heal))
		}
		return errors.Join(errs...)
	}
	for _, n := range nodes {
		reached = append(reached, n) // a failed inject may have done half its work: heal it too
		ictx, cancel := context.WithTimeout(ctx, execHookTimeout)
		err := runHook(ictx, c, env, n, names, "inject", p.Inject)
		cancel()
		if err != nil {
			hctx, cancel := context.WithTimeout(context.Background(), healWithin)
			herr := heal(hctx)
			cancel()
			if ctx.Err() != nil { // stopped (Ctrl-C): not the hook's fault
				return nil, errors.Join(err, herr)
			}
			return nil, &FatalError{errors.Join(err, herr)}
		}
	}
	return &Injection{Targets: names, Params: map[string]any{"fault_id": env.FaultID}, Heal: heal}, nil
}

// runHook runs one command for node n and keeps its output in the run
// directory. The command runs in its own process group, which is killed
// whole when ctx ends, so nothing it started outlives jetstorm.
func runHook(ctx context.Context, c clusters.Cluster, env Env, n clusters.Node, targets []string, phase, command string) error {
	dir := filepath.Join(cmp.Or(env.Dir, "."), "exec")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(dir, fmt.Sprintf("%d-%s-%s.log", env.FaultID, n.Name(), phase))
	out, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Env = append(os.Environ(), execEnv(c, env, n, targets)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // what it left in the background goes with it
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return fmt.Errorf("exec %s for %s: %q: %w; its output: %s%s", phase, n.Name(), command, err, logPath, lastLine(logPath))
	}
	return nil
}

// execEnv is what a hook learns about its node and fault.
func execEnv(c clusters.Cluster, env Env, n clusters.Node, targets []string) []string {
	idx := slices.IndexFunc(c.Nodes(), func(m clusters.Node) bool { return m.Name() == n.Name() })
	return []string{
		"JETSTORM_NODE=" + n.Name(),
		"JETSTORM_NODE_INDEX=" + strconv.Itoa(idx), // from 0: a StatefulSet's pod ordinal when urls are in pod order
		"JETSTORM_NODE_URL=" + n.ClientURL(),
		"JETSTORM_MONITOR_URL=" + n.MonitorURL(),
		"JETSTORM_TARGETS=" + strings.Join(targets, ","),
		"JETSTORM_FAULT_ID=" + strconv.Itoa(env.FaultID),
		"JETSTORM_FAULT_FOR=" + env.FaultFor.String(),
		"JETSTORM_RUN_DIR=" + cmp.Or(env.Dir, "."),
		"JETSTORM_STREAM=" + env.Stream, // the stream under test (e.g. for a leader step-down)
	}
}

// lastLine is ` (last line: ...)` of a hook's output, or "".
func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		if len(l) > 200 {
			l = l[:200] + "..."
		}
		return " (last line: " + l + ")"
	}
	return ""
}
