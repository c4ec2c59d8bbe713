package clusters

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"jetstorm/powerfs"
)

// ChildEnv marks a process started by the process backend as a node. A test
// binary that starts clusters calls RunNodeIfChild first in TestMain, so the
// test binary itself can serve as the node executable.
const ChildEnv = "JETSTORM_NODE_CHILD"

// RunNodeIfChild runs a node and exits when this process was started as one.
func RunNodeIfChild() {
	if os.Getenv(keeperEnv) == "1" {
		// argv: <exe> powerfs --backing DIR --mount DIR ...
		os.Exit(powerfs.KeeperMain(os.Args[2:]))
	}
	if os.Getenv(ChildEnv) != "1" {
		return
	}
	// argv: <exe> node --config FILE
	if len(os.Args) != 4 || os.Args[1] != "node" || os.Args[2] != "--config" {
		fmt.Fprintf(os.Stderr, "jetstorm node: bad arguments %q\n", os.Args[1:])
		os.Exit(3)
	}
	if err := RunNode(os.Args[3]); err != nil {
		fmt.Fprintf(os.Stderr, "jetstorm node: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// ServerVersion is the version of the nats-server embedded in this binary.
const ServerVersion = server.VERSION

// NodeLogEnv, when set, names a file a node appends its stdout and stderr
// to. The docker backend sets it to the log in the bind-mounted node dir:
// the server's log and a Go panic (fd 2) land there as they are written,
// with no copy from the engine's log that a crash of jetstorm could miss.
const NodeLogEnv = "JETSTORM_NODE_LOG"

// RunNode runs nats-server (embedded) from a nats-server config file until
// SIGTERM or SIGINT, then shuts it down cleanly; on SIGUSR2 it enters lame
// duck mode and exits at its end, as a release binary does.
func RunNode(configFile string) error {
	if p := os.Getenv(NodeLogEnv); p != "" {
		if err := redirectOutput(p); err != nil {
			return err
		}
	}
	opts, err := server.ProcessConfigFile(configFile)
	if err != nil {
		return fmt.Errorf("config %s: %w", configFile, err)
	}
	// We trap signals ourselves: the embedded server's handler would os.Exit.
	opts.NoSigs = true
	s, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("new server: %w", err)
	}
	s.ConfigureLogger()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR2)
	s.Start()
	if !s.ReadyForConnections(60 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("server %s not ready for connections after 60s", opts.ServerName)
	}
	go func() {
		for sig := range sigs {
			if sig == syscall.SIGUSR2 {
				go s.LameDuckShutdown() // ends in Shutdown; SIGTERM still cuts it short
				continue
			}
			s.Shutdown()
			return
		}
	}()
	s.WaitForShutdown()
	return nil
}

// redirectOutput points fds 1 and 2 at the end of the file path.
func redirectOutput(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("node log: %w", err)
	}
	defer f.Close()
	for _, fd := range []int{1, 2} {
		if err := syscall.Dup3(int(f.Fd()), fd, 0); err != nil {
			return fmt.Errorf("node log: %w", err)
		}
	}
	return nil
}
