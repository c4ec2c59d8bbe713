package scenarios

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"jetstorm/checker"
)

// nodeLogChecker is the crash check of the run in dir: every node's log
// (checker.NodeLogs), with the check.known_crashes of the run's resolved
// scenario (dir/scenario.yaml, written when the run starts), so `jetstorm
// check DIR` judges the logs as the run did. An external cluster has no node
// logs: the check is skipped, saying so.
func nodeLogChecker(dir string) checker.Checker {
	c := &checker.NodeLogs{Dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, "scenario.yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		return c // no known crashes
	}
	// Only the two keys this needs, leniently: a scenario.yaml from another
	// jetstorm version still gives them.
	var s struct {
		Cluster struct {
			Backend string `yaml:"backend"`
		} `yaml:"cluster"`
		Check struct {
			KnownCrashes []string `yaml:"known_crashes"`
		} `yaml:"check"`
	}
	if err == nil {
		err = yaml.Unmarshal(b, &s)
	}
	if err != nil {
		// Without its known crashes every crash counts: the safe side.
		return c
	}
	if s.Cluster.Backend == "external" {
		c.Skip = "an external cluster: jetstorm has no node logs to read (check the servers' own logs for panics)"
	}
	c.KnownCrashes = s.Check.KnownCrashes
	return c
}
