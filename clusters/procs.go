package clusters

import (
	"os"
	"path/filepath"
	"strings"
)

// ProcessesMentioning lists running processes (as "pid: cmdline") whose
// command line contains s. Every node's command line names its config file
// inside the run directory, so this finds what a run left behind.
func ProcessesMentioning(s string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		cmd := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		if strings.Contains(cmd, s) {
			out = append(out, e.Name()+": "+cmd)
		}
	}
	return out
}
