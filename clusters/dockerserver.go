package clusters

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/testcontainers/testcontainers-go"
)

// dockerServer is what every node container of a docker cluster runs, one
// of:
//   - the embedded server (default): the jetstorm node image, run as
//     `jetstorm node --config /node/nN.conf`; it writes its own output into
//     the node log (NodeLogEnv);
//   - a nats-server binary (cluster.server: a release or a path): an image
//     FROM scratch holding it as its entrypoint (serverImage);
//   - a user's image (cluster.image), run as it is: its entrypoint must be
//     nats-server, as in the official nats image.
//
// The last two run `-c /node/nN.conf` and write to stdout and stderr: the
// engine keeps that, and jetstorm copies it into the node log
// (dockerlog.go), so a run directory looks the same whatever the nodes run.
type dockerServer struct {
	image    string
	embedded bool
}

// cmd is the container's command for the config file conf (a path inside).
func (s dockerServer) cmd(conf string) []string {
	if s.embedded {
		return []string{"node", "--config", conf}
	}
	return []string{"-c", conf}
}

// env is the container's environment, log the node log (a path inside;
// "": stdout and stderr).
func (s dockerServer) env(log string) map[string]string {
	switch {
	case !s.embedded:
		return nil
	case log == "":
		return map[string]string{ChildEnv: "1"}
	}
	return map[string]string{ChildEnv: "1", NodeLogEnv: log}
}

// resolveDockerServer finds or builds the image of what cfg asks the nodes
// to run. What the scenario asks and cannot work is a *SpecError: both
// cluster.image and cluster.server, an image the engine does not have, a
// nats-server binary that is not static.
func resolveDockerServer(ctx context.Context, cli *testcontainers.DockerClient, cfg Config, logf func(string, ...any)) (dockerServer, error) {
	if cfg.Image != "" {
		if kind, _ := ServerSpecKind(cfg.Server); kind != "embedded" || cfg.ServerBinary != "" {
			return dockerServer{}, &SpecError{fmt.Errorf("give cluster.image or cluster.server, not both (the image runs its own nats-server)")}
		}
		return dockerServer{image: cfg.Image}, userImage(ctx, cli, cfg.Image)
	}
	bin, err := resolveServer(ctx, cfg, logf)
	if err != nil {
		return dockerServer{}, err
	}
	if bin != "" {
		image, err := serverImage(ctx, cli, bin, logf)
		return dockerServer{image: image}, err
	}
	if bin, err = nodeBinary(ctx, cfg.Exe, logf); err != nil {
		return dockerServer{}, err
	}
	image, err := nodeImage(ctx, cli, bin, logf)
	return dockerServer{image: image, embedded: true}, err
}

// userImage checks that the engine has ref. jetstorm never pulls: what a
// run tests is what the user put there (docker pull, docker build).
func userImage(ctx context.Context, cli *testcontainers.DockerClient, ref string) error {
	_, err := cli.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return nil
	case cerrdefs.IsNotFound(err):
		return &SpecError{fmt.Errorf("cluster.image %s is not in the docker engine (%s); jetstorm does not pull images: docker pull or docker build it first", ref, cli.DaemonHost())}
	}
	return fmt.Errorf("cluster.image %s: %w", ref, err)
}
