// Package scenarios loads scenario files and runs them: it is the only
// package that ties clusters, workloads, faults, checkers and reports together.
package scenarios

// Scenario is one scenario file. Zero values are filled with defaults by Load.
type Scenario struct {
	Name     string   `yaml:"name"`
	Seed     *uint64  `yaml:"seed"` // nil: random, printed and recorded
	Cluster  Cluster  `yaml:"cluster"`
	Stream   Stream   `yaml:"stream"`
	Workload Workload `yaml:"workload"`
	Faults   Faults   `yaml:"faults"`
	Final    Final    `yaml:"final"`

	// File is the path the scenario was loaded from ("" when built in code).
	File string `yaml:"-"`
	// pos maps a dotted key path ("cluster.nodes") to "file:line" or
	// "--set cluster.nodes=4", for error messages found after decoding.
	pos map[string]string
}

type Cluster struct {
	Backend      string       `yaml:"backend"` // process (default)
	Nodes        int          `yaml:"nodes"`   // default 3
	SyncInterval SyncInterval `yaml:"sync_interval"`
}

type Stream struct {
	Replicas int    `yaml:"replicas"` // default min(3, nodes)
	Storage  string `yaml:"storage"`  // file (default) | memory
}

type Workload struct {
	Type     string   `yaml:"type"`     // queue (default)
	Clients  int      `yaml:"clients"`  // default 6
	Rate     float64  `yaml:"rate"`     // total ops/s over all clients; default 500
	Duration Duration `yaml:"duration"` // default 60s
	Payload  Size     `yaml:"payload"`  // default 128B
	Timeout  Duration `yaml:"timeout"`  // per-publish timeout; default 5s
}

type Faults struct {
	Kinds    []string `yaml:"kinds"`    // e.g. [kill]; empty: no faults
	Interval Duration `yaml:"interval"` // time between fault starts; default 10s
	Downtime Duration `yaml:"downtime"` // how long a fault lasts; default 5s
	Targets  []string `yaml:"targets"`  // one (default), minority, majority, all, stream-leader, meta-leader
}

type Final struct {
	Recover      Duration `yaml:"recover"`       // time allowed for the healed cluster to become healthy; default 20s
	DrainTimeout Duration `yaml:"drain_timeout"` // time allowed for the final read; default 60s
}
