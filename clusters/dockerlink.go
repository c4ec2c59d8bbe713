package clusters

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// The docker backend cuts route links in the kernel, not in a proxy: a cut
// link from -> to is an nftables rule in to's network namespace that drops
// every packet from from's container address on input. DROP, not REJECT:
// nothing answers, as with a pulled cable, and TCP keeps retransmitting
// until the route's pings give up. The rule sees every packet, so the
// connections already established are cut too, not only new ones.
//
// jetstorm writes the rules from the host (nsenter into the namespace, the
// host's nft), so the FROM-scratch image needs no tools; it takes root.
// The rules live in a table of their own (inet jetstorm), apart from the
// iptables-nft rules docker puts in the namespace for its DNS, and each
// change rewrites a node's whole chain in one atomic nft batch. Native nft
// rather than iptables-legacy or iptables-nft: both work here, but one
// batch per node and named counters (which survive the chain being
// rewritten) keep the rules and their counts simple.
//
// A namespace dies with its container, and its rules with it, so every
// start of a node (re)writes the rules of every node from the link state:
// its own, and its peers', whose rules name its address, which the engine
// may change at a restart. jetstorm keeps each node's namespace open (a
// file), so the counters of a node that died can still be read.
//
// Each peer's packets also pass a counting rule after the drop rule, so
// Stats says what got through (Forwarded) as well as what was dropped.
// There is no delay in the kernel here (no netem qdisc): SetDelay and
// SetRate do nothing; a scenario with a slowlink uses proxies instead
// (ProcessOptions.DelayLinks, dockerproxy.go).

const nftTable = "jetstorm" // family inet, in every node's namespace

// DockerLinksAvailable says whether this process can control a docker
// cluster's route links: it needs root, nsenter and nft.
func DockerLinksAvailable() error {
	if os.Geteuid() != 0 {
		return errors.New("cutting links in the containers' network namespaces needs root")
	}
	for _, tool := range []string{"nsenter", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("cutting links needs %s (apt-get install util-linux nftables): %w", tool, err)
		}
	}
	return nil
}

// dockerLinks is the state of a docker cluster's route links.
type dockerLinks struct {
	logf  func(string, ...any)
	names []string // every node, in order

	mu   sync.Mutex
	cuts map[[2]string]int       // [from, to] -> Cuts not yet healed
	net  map[string]*nodeNet     // node -> its namespace at its last start
	gone map[[2]string]LinkStats // counts of namespaces that are no more
}

// nodeNet is a node's network namespace as of its last start.
type nodeNet struct {
	ns *os.File   // /proc/PID/ns/net, kept open: it outlives the container
	ip netip.Addr // the node's address on the run's network
}

func newDockerLinks(names []string, logf func(string, ...any)) *dockerLinks {
	return &dockerLinks{logf: logf, names: names, cuts: map[[2]string]int{},
		net: map[string]*nodeNet{}, gone: map[[2]string]LinkStats{}}
}

// started records the namespace and address of a node that has just
// started (its container's init pid) and rewrites every node's rules: the
// new namespace has none yet, and the peers' rules may name an old address.
func (ls *dockerLinks) started(name string, pid int, ip netip.Addr) error {
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return fmt.Errorf("network namespace of %s: %w", name, err)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if old := ls.net[name]; old != nil {
		ls.keepCounts(name, old.ns)
		old.ns.Close()
	}
	ls.net[name] = &nodeNet{ns: ns, ip: ip}
	var errs []error
	for _, n := range ls.names {
		errs = append(errs, ls.apply(n))
	}
	return errors.Join(errs...)
}

// apply rewrites the rules in node to's namespace: for each peer whose
// address is known, a drop rule if the link peer -> to is cut, then a
// counting rule. Called with mu held.
func (ls *dockerLinks) apply(to string) error {
	nn := ls.net[to]
	if nn == nil {
		return nil // not started yet: its start writes them
	}
	var b strings.Builder
	fmt.Fprintf(&b, "add table inet %s\n", nftTable)
	fmt.Fprintf(&b, "add chain inet %s input { type filter hook input priority filter - 10; policy accept; }\n", nftTable)
	fmt.Fprintf(&b, "flush chain inet %s input\n", nftTable)
	for _, from := range ls.names {
		peer := ls.net[from]
		if from == to || peer == nil {
			continue
		}
		fmt.Fprintf(&b, "add counter inet %s drop_%s\nadd counter inet %s fwd_%s\n", nftTable, from, nftTable, from)
		if ls.cuts[[2]string{from, to}] > 0 {
			fmt.Fprintf(&b, "add rule inet %s input ip saddr %s counter name drop_%s drop\n", nftTable, peer.ip, from)
		}
		fmt.Fprintf(&b, "add rule inet %s input ip saddr %s counter name fwd_%s\n", nftTable, peer.ip, from)
	}
	if _, err := nftIn(nn.ns, b.String(), "-f", "-"); err != nil {
		return fmt.Errorf("rules of %s: %w", to, err)
	}
	return nil
}

// nftIn runs nft with args in the namespace ns, stdin as its input.
func nftIn(ns *os.File, stdin string, args ...string) ([]byte, error) {
	cmd := exec.Command("nsenter", append([]string{"--net=/proc/self/fd/3", "nft"}, args...)...)
	cmd.ExtraFiles = []*os.File{ns} // fd 3 in nsenter
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("nft %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// counts reads the named counters in ns: per peer, what was dropped and
// what got through.
func counts(ns *os.File) (map[string]LinkStats, error) {
	out, err := nftIn(ns, "", "-j", "list", "counters", "table", "inet", nftTable)
	if err != nil {
		return nil, err
	}
	var list struct {
		Nftables []struct {
			Counter *struct {
				Name           string
				Packets, Bytes int64
			}
		}
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("nft counters: %w", err)
	}
	m := map[string]LinkStats{}
	for _, o := range list.Nftables {
		if o.Counter == nil {
			continue
		}
		kind, peer, _ := strings.Cut(o.Counter.Name, "_")
		s := m[peer]
		switch kind {
		case "drop":
			s.Dropped, s.DroppedBytes = o.Counter.Packets, o.Counter.Bytes
		case "fwd":
			s.Forwarded = o.Counter.Bytes
		}
		m[peer] = s
	}
	return m, nil
}

// keepCounts adds what the counters of node to's old namespace say to
// gone, before it is let go. Called with mu held.
func (ls *dockerLinks) keepCounts(to string, ns *os.File) {
	m, err := counts(ns)
	if err != nil {
		ls.logf("link counts of %s before its restart are lost: %v", to, err)
		return
	}
	for from, s := range m {
		ls.gone[[2]string{from, to}] = ls.gone[[2]string{from, to}].add(s)
	}
}

// change applies f to the cut count of from -> to and rewrites to's rules
// when the link goes from open to cut or back.
func (ls *dockerLinks) change(from, to string, f func(int) int) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	k := [2]string{from, to}
	was := ls.cuts[k] > 0
	ls.cuts[k] = max(f(ls.cuts[k]), 0)
	if was == (ls.cuts[k] > 0) {
		return
	}
	start := time.Now()
	if err := ls.apply(to); err != nil {
		// LinkControl has no error to return; a cut that did not happen
		// must not go unseen.
		what := "cut"
		if was {
			what = "heal"
		}
		ls.logf("link %s->%s: %s failed, its rules stay as they were: %v", from, to, what, err)
		return
	}
	if d := time.Since(start); d > time.Second {
		ls.logf("link %s->%s: rules took %s", from, to, d.Round(time.Millisecond))
	}
}

// healAll opens every link.
func (ls *dockerLinks) healAll() {
	ls.mu.Lock()
	var cut [][2]string
	for k, n := range ls.cuts {
		if n > 0 {
			cut = append(cut, k)
		}
	}
	ls.mu.Unlock()
	for _, k := range cut {
		ls.change(k[0], k[1], func(int) int { return 0 })
	}
}

// close lets every namespace go.
func (ls *dockerLinks) close() {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for _, nn := range ls.net {
		nn.ns.Close()
	}
	ls.net = map[string]*nodeNet{}
}

// DockerLink is the direction from -> to of a docker cluster's route link.
type DockerLink struct {
	From, To string
	ls       *dockerLinks
}

// Cut drops every packet from -> to from now on, silently. Cuts nest, as
// Link.Cut's do: the rule stays until every Cut has been healed.
func (l *DockerLink) Cut()     { l.ls.change(l.From, l.To, func(n int) int { return n + 1 }) }
func (l *DockerLink) Heal()    { l.ls.change(l.From, l.To, func(n int) int { return n - 1 }) }
func (l *DockerLink) HealAll() { l.ls.change(l.From, l.To, func(int) int { return 0 }) }

func (l *DockerLink) IsCut() bool {
	l.ls.mu.Lock()
	defer l.ls.mu.Unlock()
	return l.ls.cuts[[2]string{l.From, l.To}] > 0
}

// SetDelay and SetRate do nothing: the kernel here cannot delay (no netem),
// and a scenario with a slowlink uses proxies instead (dockerproxy.go).
func (l *DockerLink) SetDelay(time.Duration) {}
func (l *DockerLink) SetRate(int64)          {}

// Stats reads the rule counters in To's namespace (and what earlier
// namespaces of To counted): Forwarded, the bytes of the IP packets from
// From that got past the rules; Dropped and DroppedBytes, the packets the
// cut rule dropped. Accepted, Open and Held are for proxies: 0. Counters
// that cannot be read count 0.
func (l *DockerLink) Stats() LinkStats {
	l.ls.mu.Lock()
	defer l.ls.mu.Unlock()
	s := l.ls.gone[[2]string{l.From, l.To}]
	if nn := l.ls.net[l.To]; nn != nil {
		m, err := counts(nn.ns)
		if err != nil {
			l.ls.logf("link %s->%s: %v", l.From, l.To, err)
		}
		s = s.add(m[l.From])
	}
	return s
}

// add sums two snapshots of the counters.
func (s LinkStats) add(o LinkStats) LinkStats {
	return LinkStats{Accepted: s.Accepted + o.Accepted, Open: s.Open + o.Open, Forwarded: s.Forwarded + o.Forwarded,
		Held: s.Held + o.Held, Dropped: s.Dropped + o.Dropped, DroppedBytes: s.DroppedBytes + o.DroppedBytes}
}
