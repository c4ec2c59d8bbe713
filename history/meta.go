package history

import "fmt"

// Meta describes the run; it is the Value of the first op of every history
// (F "meta"), so a saved history can be re-checked and reported on its own.
type Meta struct {
	Scenario      string `json:"scenario"`
	ScenarioFile  string `json:"scenario_file,omitempty"`
	Seed          uint64 `json:"seed"`
	ServerVersion string `json:"server_version"`
	SyncInterval  string `json:"sync_interval"`
	Nodes         int    `json:"nodes"`
	Replicas      int    `json:"replicas"`
	Storage       string `json:"storage"`
	Workload      string `json:"workload"`
	Faults        any    `json:"faults,omitempty"` // the fault schedule, as planned
	StartedAt     string `json:"started_at"`
	// System is what the cluster ran: "" (JetStream) or "stan" (NATS
	// Streaming).
	System string `json:"system,omitempty"`
}

// MetaOf finds the meta op in a history.
func MetaOf(h []Op) (Meta, error) {
	for _, op := range h {
		if op.F != FMeta {
			continue
		}
		var m Meta
		err := op.Decode(&m)
		return m, err
	}
	return Meta{}, fmt.Errorf("history has no %q op", FMeta)
}
