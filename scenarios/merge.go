package scenarios

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"jetstorm/reports"
	"jetstorm/stats"
)

// MergeMaxSkew is how far apart shards' schedules may have started and
// still merge (they start at the same --start-at; this is the slack for
// a late start).
const MergeMaxSkew = 250 * time.Millisecond

// ClocksText describes the shards' clocks of a merged run directory: each
// against the first shard's, as end-to-end latencies across them carry.
func ClocksText(dir string) string {
	r, _, err := benchFiles(dir)
	if err != nil || len(r.Clocks) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("shards' clocks against shard 1's (end-to-end latencies across shards carry them):\n")
	for _, c := range r.Clocks {
		if c.Unknown != "" {
			fmt.Fprintf(&b, "  shard %d: unknown (%s)\n", c.Shard, c.Unknown)
			continue
		}
		fmt.Fprintf(&b, "  shard %d: %+.3f ms ± %.3f ms\n", c.Shard, float64(c.Offset)/1e6, float64(c.Uncertainty)/1e6)
	}
	return b.String()
}

// MergeShards merges the run directories of a bench's shards (`jetstorm
// bench --shard I/N`) into out, a new or empty directory, as if one
// generator had run: out starts as a copy of the first shard's directory
// (its history, scenario.yaml), its bench.json, CSVs and OMB result are
// the shards' merged (stats.MergeBench), and results.json, the report
// and the plots are rebuilt from them on the finish path.
func MergeShards(ctx context.Context, out string, dirs []string, o FinishOptions) (*reports.Results, error) {
	if len(dirs) < 2 {
		return nil, &ConfigError{fmt.Errorf("merge: give at least two shard run directories, got %d", len(dirs))}
	}
	var parts []*stats.BenchResult
	for _, d := range dirs {
		r, cp, err := benchFiles(d)
		if err != nil {
			return nil, &ConfigError{fmt.Errorf("merge: %s: not a bench run directory: %w", d, err)}
		}
		if cp != nil {
			return nil, &ConfigError{fmt.Errorf("merge: %s is a capacity search: shards run steps", d)}
		}
		parts = append(parts, r)
	}
	merged, err := stats.MergeBench(parts, MergeMaxSkew)
	if err != nil {
		return nil, &ConfigError{err}
	}
	if err := emptyDir(out); err != nil {
		return nil, &ConfigError{err}
	}
	if err := copyDir(dirs[0], out); err != nil {
		return nil, err
	}
	s, err := Load(filepath.Join(dirs[0], "scenario.yaml"), nil)
	if err != nil {
		return nil, &ConfigError{fmt.Errorf("merge: %w", err)}
	}
	w := s.Workload
	meta := stats.OMBMeta{Workload: s.Name, Driver: "jetstorm (nats-server, " + s.Stream.Storage + ", R" + strconv.Itoa(s.Stream.Replicas) +
		", " + strconv.Itoa(len(dirs)) + " generators merged)", MessageSize: int64(w.Payload.Bytes()), Topics: 1,
		Partitions: w.Bench.Subjects, Producers: w.Bench.Publishers, Consumers: *w.Bench.Consumers}
	if err := writeBenchFiles(out, merged, nil, meta); err != nil {
		return nil, err
	}
	return Finish(ctx, out, o)
}

// emptyDir makes dir, or checks it is empty.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("merge: --out %s is not empty", dir)
	}
	return os.MkdirAll(dir, 0o755)
}

// copyDir copies the files under src into dst.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		f, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, in); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
}
