package clusters

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// nodeImageRepo is the repository of the node images: FROM scratch plus a
// static jetstorm, which runs a node as `jetstorm node --config FILE`.
const nodeImageRepo = "jetstorm-node"

// nodeBinary is the static jetstorm executable a node image holds: exe
// ("" = this executable) when it is static; else, when jetstorm's source is
// at hand (a test, or a binary run in its checkout), one built from it with
// CGO_ENABLED=0 into the user cache dir.
func nodeBinary(ctx context.Context, exe string, logf func(string, ...any)) (string, error) {
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find jetstorm executable: %w", err)
		}
	}
	static, err := isStaticELF(exe)
	if err != nil {
		return "", err
	}
	if static {
		return exe, nil
	}
	root := moduleRoot()
	if root == "" {
		return "", fmt.Errorf("the docker backend puts jetstorm into a FROM-scratch image, so it needs a static binary; %s is dynamically linked: build jetstorm with CGO_ENABLED=0 (make build does)", exe)
	}
	return buildStatic(ctx, root, logf)
}

// isStaticELF reports whether path is an ELF executable without an
// interpreter (PT_INTERP): it runs in an image with nothing else in it.
func isStaticELF(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, fmt.Errorf("node binary %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

// moduleRoot is the directory of jetstorm's go.mod at or above the working
// directory, "" when there is none.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module jetstorm\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// buildStatic builds ./cmd/jetstorm of the module in root with
// CGO_ENABLED=0 into the user cache dir (the go build cache makes a rebuild
// of unchanged source quick).
func buildStatic(ctx context.Context, root string, logf func(string, ...any)) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("the docker backend needs a static jetstorm binary: this one is dynamically linked and the go command is not in PATH to build one (build with CGO_ENABLED=0; make build does)")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache dir to build a static jetstorm in: %w", err)
	}
	dir := filepath.Join(cache, "jetstorm", "node-bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Build into a private file, then rename: two builds at once each
	// leave a whole binary.
	tmp, err := os.CreateTemp(dir, "jetstorm-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	logf("building a static jetstorm for the node image (CGO_ENABLED=0 go build ./cmd/jetstorm in %s)", root)
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", tmp.Name(), "./cmd/jetstorm")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building a static jetstorm: %v: %s", err, lastN(out.String(), 5))
	}
	bin := filepath.Join(dir, "jetstorm")
	return bin, os.Rename(tmp.Name(), bin)
}

// nodeImage returns the tag of the node image holding bin, a static
// jetstorm, building it when the engine does not have it yet.
func nodeImage(ctx context.Context, cli *testcontainers.DockerClient, bin string, logf func(string, ...any)) (string, error) {
	return scratchImage(ctx, cli, nodeImageRepo, "jetstorm", bin, logf)
}

// serverImageRepo is the repository of the images of a nats-server binary
// (cluster.server: a release or a path): FROM scratch plus that binary as
// the entrypoint, as in the official nats image.
const serverImageRepo = "jetstorm-nats-server"

// serverImage returns the tag of the image holding bin, a static
// nats-server, building it when the engine does not have it yet.
func serverImage(ctx context.Context, cli *testcontainers.DockerClient, bin string, logf func(string, ...any)) (string, error) {
	if static, err := isStaticELF(bin); err != nil || !static {
		if err == nil {
			err = fmt.Errorf("nats-server binary %s is dynamically linked: the docker backend runs it in a FROM-scratch image, so it must be static (build it with CGO_ENABLED=0)", bin)
		}
		return "", &SpecError{err}
	}
	return scratchImage(ctx, cli, serverImageRepo, "nats-server", bin, logf)
}

// scratchImage returns repo:<sha12>, an image FROM scratch holding only
// the static binary bin as /name, its entrypoint. The tag is the binary's
// content hash, so each binary is built into an image once and reused
// after; the labels say what it holds.
func scratchImage(ctx context.Context, cli *testcontainers.DockerClient, repo, name, bin string, logf func(string, ...any)) (string, error) {
	sum, err := fileSHA256(bin)
	if err != nil {
		return "", err
	}
	tag := repo + ":" + sum[:12]
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	}
	logf("building image %s from %s", tag, bin)
	// The build context: the Dockerfile and a hard link to (else a copy of)
	// the binary.
	dir, err := os.MkdirTemp("", "jetstorm-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := os.Link(bin, filepath.Join(dir, name)); err != nil {
		if err := copyFile(bin, filepath.Join(dir, name)); err != nil {
			return "", err
		}
	}
	dockerfile := fmt.Sprintf("FROM scratch\nCOPY %s /%s\nENTRYPOINT [\"/%s\"]\n", name, name, name)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", err
	}
	prov, err := testcontainers.NewDockerProvider()
	if err != nil {
		return "", err
	}
	defer prov.Close()
	req := &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context: dir, Repo: repo, Tag: sum[:12], KeepImage: true,
		BuildOptionsModifier: func(o *client.ImageBuildOptions) {
			o.Labels = map[string]string{"jetstorm.image": repo, "jetstorm.binary-sha256": sum}
		},
	}}
	// BuildImage retries a failed build until ctx ends: bound it.
	bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := prov.BuildImage(bctx, req); err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	return tag, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}
