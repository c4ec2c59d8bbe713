package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jetstorm/checker"
)

const ttlScenario = `
name: ttl-e2e
seed: 3
cluster: {nodes: 3, sync_interval: always}
stream: {replicas: 3}
workload: {type: ttl, clients: 3, rate: 30, duration: 8s, ttls: [2s, 3s], never_every: 5, marker_ttl: 2s, slack: 5s, probe_interval: 500ms}
`

// Messages with TTLs on a real cluster, through the stream (every fifth
// without a TTL: it stays), and through a KV bucket with a TTL of its own
// (keys created with a TTL, and every fifth without one: it goes at the
// bucket's): they expire on every replica, each leaves its delete marker:
// valid, and the check saw it all happen.
func TestTTLExpires(t *testing.T) {
	for _, keys := range []string{"api: stream", "api: kv, max_age: 3s"} {
		t.Run(keys, func(t *testing.T) {
			o := runYAML(t, strings.Replace(ttlScenario, "probe_interval", keys+", probe_interval", 1), RunOptions{})
			s := o.Results.TTL
			if o.Results.Verdict != checker.Valid || s == nil {
				t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
			}
			bucketTTL := strings.Contains(keys, "max_age")
			if s.Acked < 150 || s.Expired < s.Acked/2 || s.Markers < s.Expired/2 || (s.NoTTL == 0) != bucketTTL || s.Gets == 0 || len(s.Nodes) < 4 || s.Probes < 30 {
				t.Errorf("ttl: %+v", *s)
			}
			pageShows(t, o.Dir, "<h2>Message TTLs</h2>", "<td>api reads</td>", "<td>the drain</td>")
		})
	}
}

// Clients that send a TTL shorter than the one they record: the server
// expires those messages before the TTL the history says, and the check
// calls them early: invalid.
func TestTTLEarlyIsCaught(t *testing.T) {
	o := runYAML(t, strings.Replace(ttlScenario, "ttls: [2s, 3s]", "ttls: [4s]", 1),
		RunOptions{TTLSent: func(d time.Duration) time.Duration { return d / 2 }})
	s := o.Results.TTL
	if o.Results.Verdict != checker.Invalid || s == nil || s.Early == 0 {
		t.Fatalf("early expiries not caught: verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
}

const scheduleScenario = `
name: schedule-e2e
seed: 3
cluster: {nodes: 3, sync_interval: always}
stream: {replicas: 3}
workload: {type: schedule, clients: 3, rate: 20, duration: 8s, delays: [1s, 3s], every: 1s, repeating: 1, slack: 5s}
`

// @at and @every schedules on a real cluster: each @at one fires once at
// its time on every replica, the @every one every second: valid.
func TestScheduleFires(t *testing.T) {
	o := runYAML(t, scheduleScenario, RunOptions{})
	s := o.Results.Schedules
	if o.Results.Verdict != checker.Valid || s == nil {
		t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
	if s.Acked < 100 || s.Fired < s.Acked-1 || s.Repeating != 1 || s.GapsJudged < 5 || s.Firings <= s.Fired {
		t.Errorf("schedules: %+v", *s)
	}
	pageShows(t, o.Dir, "<h2>Message schedules</h2>", "<td>@every gaps judged</td>")
}

// A client that publishes some schedules twice (a second schedule with the
// same target) and records one: they fire twice: invalid.
func TestScheduleDuplicateIsCaught(t *testing.T) {
	o := runYAML(t, scheduleScenario, RunOptions{ScheduleDouble: func(op string) bool { return strings.HasSuffix(op, "-5") }})
	s := o.Results.Schedules
	if o.Results.Verdict != checker.Invalid || s == nil || s.Duplicated == 0 {
		t.Fatalf("duplicated firings not caught: verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
}

// pageShows: the run's index.html has each of parts.
func pageShows(t *testing.T, dir string, parts ...string) {
	t.Helper()
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if !strings.Contains(string(page), p) {
			t.Errorf("index.html lacks %q", p)
		}
	}
}
