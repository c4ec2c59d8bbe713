package scenarios

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"jetstorm/checker"
	"jetstorm/history"
)

// A short consume run on a real cluster with a kill: the consumers really
// deliver, ack in every way, are sampled, dead-letter a term'd message,
// and every acknowledged publish reaches each durable at least once (a
// simple in-test check; the consumer checker judges the rest).
func TestConsumeRunRecordsDeliveries(t *testing.T) {
	o, h := runScenario(t, `
name: consume
seed: 7
cluster: {nodes: 3, sync_interval: always}
stream: {replicas: 3}
workload:
  type: consume
  clients: 3
  rate: 150
  duration: 10s
  consumers: 2
  consumer_clients: 2
  ack_wait: 2s
  nak: 0.05
  nak_delay: 0.05
  no_ack: 0.03
  term: 0.02
faults: {kinds: [kill], interval: 4s, downtime: 2s}
final: {recover: 30s, drain_timeout: 30s}
`)
	acked := map[string]bool{}               // acknowledged publishes
	delivered := map[string]map[string]int{} // consumer -> value -> deliveries
	acks := map[string]int{}                 // ok replies by kind
	counts := map[string]int{}
	consumers := 0
	for _, op := range h {
		switch {
		case op.F == history.FPublish && op.Type == history.OK:
			acked[op.ValueString()] = true
		case op.F == history.FConsumer && op.Type == history.OK:
			consumers++
			var c history.ConsumerConfig
			if err := op.Decode(&c); err != nil || c.Name == "" || c.Replicas != 3 || c.Mode != "pull" || !c.DoubleAck {
				t.Errorf("consumer op %+v: %+v (%v)", op, c, err)
			}
			delivered[c.Name] = map[string]int{}
		case op.F == history.FDeliver && op.Type == history.OK:
			var d history.Delivery
			if err := op.Decode(&d); err != nil || d.StreamSeq != op.Seq || d.NumDelivered == 0 || op.Node == "" ||
				op.Process < history.ConsumerProcessBase || delivered[d.Consumer] == nil {
				t.Fatalf("delivery op %+v: %+v (%v)", op, d, err)
			}
			delivered[d.Consumer][d.Value]++
		case op.F == history.FAck && op.Type == history.OK:
			var a history.Ack
			if err := op.Decode(&a); err != nil {
				t.Fatal(err)
			}
			acks[a.Kind]++
			if a.Kind == history.AckAck && a.Double && a.DeliveredAfter > 0 {
				acks["delivered_after"]++
			}
		case op.F == history.FConsumerState && op.Type == history.OK:
			var s history.ConsumerState
			if err := op.Decode(&s); err != nil || s.Consumer == "" {
				t.Errorf("state op %+v (%v)", op, err)
			}
			counts[op.F]++
			if s.Final {
				counts["final-state"]++
			}
		case op.F == history.FDeadLetter && op.Type == history.OK:
			var dl history.DeadLetter
			if err := op.Decode(&dl); err != nil || dl.StreamSeq == 0 || delivered[dl.Consumer] == nil {
				t.Errorf("dead letter %+v: %+v (%v)", op, dl, err)
			}
			counts[dl.Kind]++
		}
	}
	t.Logf("acked %d, ok replies %v, counts %v", len(acked), acks, counts)
	for _, c := range o.Results.Checks {
		if c.Name == "consumer" && c.Verdict != checker.Valid {
			t.Errorf("consumer check: %s %s", c.Verdict, c.Message)
		}
	}
	if consumers != 2 || len(acked) < 500 {
		t.Fatalf("%d consumers, %d acked publishes", consumers, len(acked))
	}
	for _, k := range []string{history.AckAck, history.AckNak, history.AckNakDelay, history.AckTerm, "delivered_after"} {
		if acks[k] == 0 {
			t.Errorf("no ok %s", k)
		}
	}
	if counts[history.FConsumerState] < 10 || counts["final-state"] != 2+2*3 { // from the leaders, then from each node
		t.Errorf("consumer-state samples: %v", counts)
	}
	if counts["terminated"] == 0 {
		t.Errorf("no terminated advisory captured in the dead-letter stream")
	}
	for name, got := range delivered {
		missing := 0
		for v := range acked {
			if got[v] == 0 {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%s: %d of %d acked publishes never delivered", name, missing, len(acked))
		}
	}
}

// The consume kind's defaults, explicit zeros that survive the resolved
// scenario, and its validation.
func TestConsumeOptions(t *testing.T) {
	s, err := Parse([]byte("workload: {type: consume, term: 0, double_ack: false}\n"), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Workload.Consume
	if *s.Workload.Bench.Consumers != 2 || c.ConsumerClients != 1 || c.Mode != "pull" || c.AckWait.D() != 5*time.Second ||
		c.MaxDeliver != 5 || c.MaxAckPending != 1000 || *c.DoubleAck || c.Retention != "limits" ||
		*c.Nak != 0.02 || *c.NakDelay != 0.02 || *c.NoAck != 0.01 || *c.Term != 0 || c.RestartEvery != 0 {
		t.Errorf("defaults: %+v", c)
	}
	b, _ := yaml.Marshal(s)
	again, err := Parse(b, "resolved", nil)
	if err != nil || !reflect.DeepEqual(again.Workload, s.Workload) {
		t.Errorf("resolved: %v\n%s", err, b)
	}
	q, _ := Parse([]byte("workload: {type: queue}\n"), "q.yaml", nil)
	if b, _ := yaml.Marshal(q.Workload); strings.Contains(string(b), "retention") {
		t.Errorf("a queue scenario shows the consume keys:\n%s", b)
	}
	for _, bad := range []string{"mode: fetch", "consumers: 0", "deliver_policy: last", "replay_at: 5s",
		"deliver_policy: by_start_time, replay_at: 90s", "deliver_policy: by_start_sequence, retention: workqueue", "retention: stream", "nak: 1.5",
		"nak: 0.5, term: 0.6", "max_deliver: 0", "ack_wait: 0s", "consumer_clients: 0"} {
		if _, err := Parse([]byte("workload: {type: consume, "+bad+"}\n"), "bad.yaml", nil); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// End to end: a consumer client that acks a delivery without processing it
// (the history never sees it) makes the run invalid, naming the message
// lost to that consumer; the publishers' checks stay valid.
func TestConsumeLostDeliveryIsInvalid(t *testing.T) {
	var once sync.Once
	var hidden string
	hide := func(d history.Delivery) (drop bool) {
		if d.Consumer == "durable-1" && d.StreamSeq == 40 {
			once.Do(func() { drop, hidden = true, d.Value })
		}
		return drop
	}
	out := runYAML(t, `
name: consume-drop
seed: 3
cluster: {nodes: 3, sync_interval: always}
workload: {type: consume, clients: 2, rate: 100, duration: 5s, consumers: 2, nak: 0, nak_delay: 0, no_ack: 0, term: 0}
final: {recover: 30s, drain_timeout: 30s}
`, RunOptions{ConsumeHide: hide})
	if hidden == "" {
		t.Fatal("the message at seq 40 was never delivered to durable-1")
	}
	verdicts := map[string]checker.Verdict{}
	for _, c := range out.Results.Checks {
		verdicts[c.Name] = c.Verdict
		if c.Name == "consumer" && !strings.Contains(c.Message, hidden) {
			t.Errorf("consumer check does not name %s: %s", hidden, c.Message)
		}
	}
	if out.Results.Verdict != checker.Invalid || verdicts["consumer"] != checker.Invalid || verdicts["queue"] != checker.Valid {
		t.Errorf("verdict %s, checks %v; want invalid by the consumer check alone", out.Results.Verdict, verdicts)
	}
}

// A replay durable created mid-run (deliver_policy by_start_sequence or
// by_start_time) is recorded with its start, gets exactly the stored
// messages from its start on (every one, and none before), and the
// consumer check is valid; in push mode (with a kill) and in pull mode
// (with clients re-attaching).
func TestConsumeReplayDurable(t *testing.T) {
	for _, tc := range []struct{ mode, policy, more string }{
		{"push", "by_start_sequence", "faults: {kinds: [kill], interval: 4s, downtime: 2s}"},
		{"pull", "by_start_time", "  restart_every: 3s"},
	} {
		t.Run(tc.mode+"-"+tc.policy, func(t *testing.T) {
			o, h := runScenario(t, `
name: replay
seed: 11
cluster: {nodes: 3, sync_interval: always}
stream: {replicas: 3}
workload:
  type: consume
  clients: 2
  rate: 100
  duration: 10s
  consumers: 1
  consumer_clients: 2
  mode: `+tc.mode+`
  deliver_policy: `+tc.policy+`
  replay_at: 6s
  ack_wait: 2s
`+tc.more+`
final: {recover: 30s, drain_timeout: 30s}
`)
			var replay *history.ConsumerConfig
			seqs := map[string]uint64{} // acked publishes: value -> sequence
			pubDone := map[string]time.Duration{}
			got := map[uint64]bool{}
			for _, op := range h {
				switch {
				case op.F == history.FConsumer:
					var c history.ConsumerConfig
					if err := op.Decode(&c); err != nil {
						t.Fatal(err)
					}
					if c.Mode != tc.mode {
						t.Errorf("consumer %s mode %q", c.Name, c.Mode)
					}
					if c.Name == "replay" {
						replay = &c
					}
				case op.F == history.FPublish && op.Type == history.OK:
					seqs[op.ValueString()], pubDone[op.ValueString()] = op.Seq, op.Time
				case op.F == history.FDeliver:
					var d history.Delivery
					if err := op.Decode(&d); err != nil {
						t.Fatal(err)
					}
					if d.Consumer == "replay" {
						got[d.StreamSeq] = true
					}
				}
			}
			if replay == nil || replay.DeliverPolicy != tc.policy || replay.CreatedAtSeq < 100 {
				for _, op := range h {
					if op.F == history.FNote {
						t.Logf("note: %s %v", op.Err, op.Value)
					}
				}
				t.Fatalf("replay consumer op: %+v", replay)
			}
			first := replay.StartSeq
			if tc.policy == "by_start_time" {
				if replay.StartTime < time.Second {
					t.Fatalf("start time %s", replay.StartTime)
				}
				// The first message published after the start time:
				// everything acked before it must not be delivered.
				first = ^uint64(0)
				for v, at := range pubDone {
					if at > replay.StartTime+time.Second {
						first = min(first, seqs[v])
					}
				}
			}
			missing, early := 0, 0
			for v, seq := range seqs {
				switch {
				case seq >= first && !got[seq]:
					missing++
				case seq < first && got[seq] && (tc.policy == "by_start_sequence" || pubDone[v] < replay.StartTime-time.Second):
					early++
				}
			}
			if missing > 0 || early > 0 || len(got) < 100 {
				t.Errorf("replay from seq %d: %d delivered, %d stored from there never delivered, %d delivered from before", first, len(got), missing, early)
			}
			for _, c := range o.Results.Checks {
				if (c.Name == "consumer" || c.Name == "queue") && c.Verdict != checker.Valid {
					t.Errorf("%s check: %s %s", c.Name, c.Verdict, c.Message)
				}
			}
		})
	}
}
