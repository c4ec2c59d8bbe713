package powerfs

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes of KeeperMain.
const (
	ExitOK          = 0
	ExitError       = 1 // mount or unmount failed
	ExitUsage       = 2 // bad flags
	ExitUnavailable = 3 // Available() failed: not root or no /dev/fuse
)

// KeeperMain runs `jetstorm powerfs --backing DIR --mount DIR [--writeback
// DURATION] [--debug]` (args exclude the program and subcommand names;
// --writeback is Options.Writeback, default 0: never). It mounts, prints
// "ready" on stdout, then serves line commands from stdin:
//
//	stats  -> one JSON line of Stats
//	sync   -> SyncAll; "ok" or "error: ..."
//	drop   -> DropUnsynced; "ok"
//
// On stdin EOF or SIGTERM/SIGINT/SIGHUP it syncs (a clean shutdown: send
// "drop" first to lose the pending writes instead), unmounts and exits 0.
// SIGKILL is the power cut: unsynced data dies with the process, and the
// parent must ForceUnmount the stale mount before starting a new keeper.
func KeeperMain(args []string) int {
	return keeper(args, os.Stdin, os.Stdout, os.Stderr)
}

// keeperConfig is KeeperMain's command line.
type keeperConfig struct {
	backing, mountpoint string
	opts                Options
}

const keeperUsage = "usage: powerfs --backing DIR --mount DIR [--writeback DURATION] [--debug]"

// parseKeeperArgs parses KeeperMain's flags; errors are reported on stderr.
func parseKeeperArgs(args []string, stderr io.Writer) (keeperConfig, bool) {
	var c keeperConfig
	fl := flag.NewFlagSet("powerfs", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&c.backing, "backing", "", "backing directory (the real store dir on disk)")
	fl.StringVar(&c.mountpoint, "mount", "", "mount point (the store dir the server uses)")
	fl.DurationVar(&c.opts.Writeback, "writeback", 0,
		"write unsynced data back (without fsync) once dirty this long, like Linux's dirty page writeback (30s is its default); 0 = never, only fsync persists")
	fl.BoolVar(&c.opts.Debug, "debug", false, "log FUSE requests to stderr")
	if err := fl.Parse(args); err != nil {
		return c, false
	}
	if c.opts.Writeback < 0 {
		fmt.Fprintf(stderr, "powerfs: negative --writeback %v\n", c.opts.Writeback)
		fmt.Fprintln(stderr, keeperUsage)
		return c, false
	}
	if c.backing == "" || c.mountpoint == "" || fl.NArg() > 0 {
		fmt.Fprintln(stderr, keeperUsage)
		return c, false
	}
	return c, true
}

func keeper(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, ok := parseKeeperArgs(args, stderr)
	if !ok {
		return ExitUsage
	}
	if err := Available(); err != nil {
		fmt.Fprintln(stderr, err)
		return ExitUnavailable
	}
	// A parent that dies closes our stdout: do not let a write to it kill
	// us with SIGPIPE and leave the mount behind.
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	m, err := New(c.backing, c.mountpoint, c.opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitError
	}
	out := bufio.NewWriter(stdout)
	reply := func(s string) {
		out.WriteString(s)
		out.WriteByte('\n')
		out.Flush()
	}
	reply("ready")

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	for done := false; !done; {
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "powerfs: %v: unmounting %s\n", sig, m.Mountpoint())
			done = true
		case line, ok := <-lines:
			if !ok {
				done = true
				break
			}
			switch cmd := strings.TrimSpace(line); cmd {
			case "":
			case "stats":
				b, _ := json.Marshal(m.Stats())
				reply(string(b))
			case "sync":
				if err := m.SyncAll(); err != nil {
					reply("error: " + strings.ReplaceAll(err.Error(), "\n", "; "))
				} else {
					reply("ok")
				}
			case "drop":
				m.DropUnsynced()
				reply("ok")
			default:
				reply(fmt.Sprintf("error: unknown command %q (want stats, sync or drop)", cmd))
			}
		}
	}
	if err := m.SyncAll(); err != nil {
		fmt.Fprintln(stderr, err)
	}
	if err := m.Unmount(); err != nil {
		fmt.Fprintln(stderr, err)
		if ForceUnmount(m.Mountpoint()) != nil {
			return ExitError
		}
	}
	return ExitOK
}
