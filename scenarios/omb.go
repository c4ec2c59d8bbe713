package scenarios

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// An OpenMessaging Benchmark workload file (`jetstorm bench --omb FILE`)
// becomes a bench scenario on a 3-node cluster with an R3 file stream
// (OMB's driver file, which names the cluster, has no counterpart: use
// --set cluster.nodes=5, --set stream.replicas=1, ...). What maps:
//
//	topics: 1                  one stream (more: not yet)
//	partitionsPerTopic         workload.subjects
//	messageSize                workload.payload (at least 16 bytes: the send time rides in it)
//	producersPerTopic          workload.publishers
//	subscriptionsPerTopic: 0/1 no consumers / one durable consumer (more: not yet)
//	consumerPerSubscription    workload.consumers (sharing the durable)
//	producerRate > 0           one step at that rate for testDurationMinutes
//	producerRate 0             jetstorm's capacity search from producerStartRate
//	                           (default 10000), steps of a minute, held while
//	                           ≥ 95 % is acked (p99 SLO 10 s, so throughput decides)
//	warmupDurationMinutes      a first step at the same rate (reported apart)
//	testDurationMinutes        the step's duration
//	consumerBacklogSizeGB      workload.backlog.size (GiB, as OMB counts them;
//	                           needs producerRate > 0 and a subscription)
//	producerPauseDuringDrain   workload.backlog.stop_publishing
//
// Read and ignored (reported): keyDistributor, payloadFile,
// useRandomizedPayloads, randomBytesRatio, randomizedPayloadPoolSize,
// messageRateReceivedForSubscription, acceptableBacklog,
// producerIncrementRate, producerIncrementSeconds,
// producerPauseBeforeDrain: jetstorm's payload
// is random bytes of messageSize, its rate one per step.
type ombWorkload struct {
	Name                     string  `yaml:"name"`
	Topics                   int     `yaml:"topics"`
	PartitionsPerTopic       int     `yaml:"partitionsPerTopic"`
	MessageSize              int     `yaml:"messageSize"`
	SubscriptionsPerTopic    int     `yaml:"subscriptionsPerTopic"`
	ConsumerPerSubscription  int     `yaml:"consumerPerSubscription"`
	ProducersPerTopic        int     `yaml:"producersPerTopic"`
	ProducerRate             float64 `yaml:"producerRate"`
	ProducerStartRate        float64 `yaml:"producerStartRate"`
	ConsumerBacklogSizeGB    float64 `yaml:"consumerBacklogSizeGB"`
	ProducerPauseDuringDrain bool    `yaml:"producerPauseDuringDrain"`
	TestDurationMinutes      float64 `yaml:"testDurationMinutes"`
	WarmupDurationMinutes    float64 `yaml:"warmupDurationMinutes"`
}

// ombIgnored are OMB workload keys read and not used.
var ombIgnored = []string{"keyDistributor", "payloadFile", "useRandomizedPayloads", "randomBytesRatio",
	"randomizedPayloadPoolSize", "messageRateReceivedForSubscription", "acceptableBacklog",
	"producerIncrementRate", "producerIncrementSeconds", "producerPauseBeforeDrain"}

// LoadOMB reads an OMB workload file and returns the bench scenario it
// maps to (with the --set overrides applied, defaults filled, validated),
// and notes on what it ignored. Errors name the OMB file's line.
func LoadOMB(path string, sets []string) (*Scenario, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s: an OMB workload is a mapping of keys (name, topics, messageSize, ...)", path)
	}
	m := root.Content[0]
	line := map[string]int{}
	var w ombWorkload
	var notes []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		line[k.Value] = k.Line
		if slices.Contains(ombIgnored, k.Value) {
			notes = append(notes, fmt.Sprintf("%s:%d: %s is not used (jetstorm sends random payloads of messageSize, at one rate per step)", path, k.Line, k.Value))
			continue
		}
		if !slices.Contains(ombKeys, k.Value) {
			return nil, nil, fmt.Errorf("%s:%d: %q is not an OMB workload key", path, k.Line, k.Value)
		}
		one := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{k, v}}
		if err := one.Decode(&w); err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %s: %s", path, v.Line, k.Value, yamlMessage(err))
		}
	}
	at := func(key string) string {
		if l, ok := line[key]; ok {
			return fmt.Sprintf("%s:%d", path, l)
		}
		return path
	}
	check := func(ok bool, key, format string, args ...any) error {
		if ok {
			return nil
		}
		return fmt.Errorf("%s: %s: "+format, append([]any{at(key), key}, args...)...)
	}
	for _, err := range []error{
		check(w.Topics == 1, "topics", "is %d: jetstorm benches one stream (one topic) for now", w.Topics),
		check(w.PartitionsPerTopic >= 1, "partitionsPerTopic", "must be at least 1, got %d", w.PartitionsPerTopic),
		check(w.MessageSize >= 16, "messageSize", "is %d: jetstorm needs at least 16 bytes (the send time rides in the payload)", w.MessageSize),
		check(w.ProducersPerTopic >= 1, "producersPerTopic", "must be at least 1, got %d", w.ProducersPerTopic),
		check(w.SubscriptionsPerTopic <= 1 && w.SubscriptionsPerTopic >= 0, "subscriptionsPerTopic", "is %d: one subscription (a durable consumer) per stream for now", w.SubscriptionsPerTopic),
		check(w.SubscriptionsPerTopic == 0 || w.ConsumerPerSubscription >= 1, "consumerPerSubscription", "must be at least 1 with a subscription, got %d", w.ConsumerPerSubscription),
		check(w.ProducerRate >= 0, "producerRate", "must not be negative"),
		check(w.ConsumerBacklogSizeGB >= 0 && w.ConsumerBacklogSizeGB <= 1024, "consumerBacklogSizeGB", "must be 0..1024, got %v", w.ConsumerBacklogSizeGB),
		check(w.ConsumerBacklogSizeGB == 0 || w.SubscriptionsPerTopic == 1, "consumerBacklogSizeGB", "needs a subscription (its consumers drain the backlog)"),
		check(w.ConsumerBacklogSizeGB == 0 || w.ProducerRate > 0, "consumerBacklogSizeGB", "needs a producerRate (a backlog with a capacity search: not supported)"),
		check(w.TestDurationMinutes > 0 || w.ProducerRate == 0, "testDurationMinutes", "must be positive"),
		check(w.WarmupDurationMinutes >= 0, "warmupDurationMinutes", "must not be negative"),
	} {
		if err != nil {
			return nil, nil, err
		}
	}
	consumers := 0
	if w.SubscriptionsPerTopic == 1 {
		consumers = w.ConsumerPerSubscription
	}
	minutes := func(m float64) string { return fmt.Sprintf("%gs", m*60) }
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\n", ombName(w.Name, path))
	fmt.Fprintf(&b, "cluster: {nodes: 3}\nstream: {replicas: 3, storage: file}\n")
	fmt.Fprintf(&b, "workload:\n  type: bench\n  payload: %dB\n  publishers: %d\n  consumers: %d\n  subjects: %d\n",
		w.MessageSize, w.ProducersPerTopic, consumers, w.PartitionsPerTopic)
	if w.ProducerRate > 0 {
		fmt.Fprintf(&b, "  steps:\n")
		if w.WarmupDurationMinutes > 0 {
			fmt.Fprintf(&b, "    - {rate: %g, duration: %s}\n", w.ProducerRate, minutes(w.WarmupDurationMinutes))
		}
		fmt.Fprintf(&b, "    - {rate: %g, duration: %s}\n", w.ProducerRate, minutes(w.TestDurationMinutes))
		if w.ConsumerBacklogSizeGB > 0 {
			fmt.Fprintf(&b, "  backlog: {size: %dB, stop_publishing: %v}\n", int64(w.ConsumerBacklogSizeGB*(1<<30)), w.ProducerPauseDuringDrain)
		}
	} else {
		start := w.ProducerStartRate
		if start <= 0 {
			start = 10000
		}
		fmt.Fprintf(&b, "capacity: {slo_p99: 10s, start: %g, step: 60s, warmup: %s}\n", start, minutes(max(w.WarmupDurationMinutes, 5.0/60)))
	}
	s, err := Parse([]byte(b.String()), path, sets)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (the scenario an OMB workload maps to:\n%s)", err, b.String())
	}
	if len(s.Sweep) > 0 || len(s.Variants) > 0 {
		return nil, nil, fmt.Errorf("%s: a sweep is not supported with --omb", path)
	}
	return s, notes, nil
}

// ombKeys are the OMB workload keys jetstorm maps (ombWorkload's).
var ombKeys = []string{"name", "topics", "partitionsPerTopic", "messageSize", "subscriptionsPerTopic",
	"consumerPerSubscription", "producersPerTopic", "producerRate", "producerStartRate", "consumerBacklogSizeGB", "producerPauseDuringDrain",
	"testDurationMinutes", "warmupDurationMinutes"}

// yamlMessage is a decode error without yaml's "unmarshal errors" and
// line prefix (the caller names the line).
func yamlMessage(err error) string {
	msg := strings.TrimSpace(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:"))
	if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
		return rest
	}
	return msg
}

var ombNameRE = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ombName is a scenario (and directory) name for an OMB workload: its name
// without what a path cannot hold ("1 topic / 1 partition / 1Kb" ->
// omb-1-topic-1-partition-1Kb), else the file's.
func ombName(name, path string) string {
	n := strings.Trim(ombNameRE.ReplaceAllString(name, "-"), "-")
	if n == "" {
		base := path[strings.LastIndex(path, "/")+1:]
		n = strings.TrimSuffix(base, ".yaml")
	}
	return "omb-" + n
}
