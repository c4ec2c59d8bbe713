package clusters

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Which nats-server a process cluster runs (scenario key cluster.server):
//   - "" or "embedded": the nats-server compiled into jetstorm (ServerVersion),
//     run as `jetstorm node --config FILE`;
//   - a version, "v2.12.1" or "2.12.1": that release of
//     github.com/nats-io/nats-server/v2, built once with `go install` through
//     the Go module proxy and kept in the user cache dir;
//   - a path (it contains a "/"): a nats-server binary, run as `BINARY -c FILE`.
//
// The node config is nats-server's own format, so any of them runs it.

var serverVersionRE = regexp.MustCompile(`^v?2\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

// ServerSpecKind classifies a cluster.server value: "embedded", "version" or
// "path", or an error saying what is accepted.
func ServerSpecKind(spec string) (string, error) {
	switch {
	case spec == "" || spec == "embedded":
		return "embedded", nil
	case strings.Contains(spec, "/"):
		return "path", nil
	case serverVersionRE.MatchString(spec):
		return "version", nil
	}
	return "", fmt.Errorf("%q is not embedded, a nats-server v2 version (e.g. v2.12.1) or a path to a nats-server binary (e.g. ./nats-server)", spec)
}

// ServerBinary resolves spec to the nats-server executable to run: "" for
// the embedded server, else an absolute path. A version not built yet is
// built now (about 20-60 s; needs the go command and the module proxy);
// logf, if not nil, is told so.
func ServerBinary(ctx context.Context, spec string, logf func(format string, args ...any)) (string, error) {
	kind, err := ServerSpecKind(spec)
	if err != nil {
		return "", &SpecError{err}
	}
	switch kind {
	case "embedded":
		return "", nil
	case "path":
		return binaryAt(spec, "nats-server")
	}
	return goInstall(ctx, "github.com/nats-io/nats-server/v2", "nats-server", "v"+strings.TrimPrefix(spec, "v"), logf)
}

// binaryAt is the absolute path of the name binary at path, or a
// *SpecError saying why it cannot run.
func binaryAt(path, name string) (string, error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", &SpecError{fmt.Errorf("%s binary: %w", name, err)}
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return "", &SpecError{fmt.Errorf("%s binary %s: not an executable file", name, p)}
	}
	return p, nil
}

// goInstall builds module's command name at version with go install
// through the Go module proxy, once: the binary is kept in the user cache
// dir (jetstorm/<name>/<version>/<name>) and found there next time. A
// version the proxy does not have is a *SpecError.
func goInstall(ctx context.Context, module, name, version string, logf func(format string, args ...any)) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%s %s: no cache dir to build it in: %w", name, version, err)
	}
	dir := filepath.Join(cache, "jetstorm", name, version)
	bin := filepath.Join(dir, name)
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
		return bin, nil
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("%s %s is built with the go command, which is not in PATH", name, version)
	}
	if logf != nil {
		logf("building %s %s with go install (once; kept in %s)", name, version, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	defer os.Remove(dir) // only if empty: a failed build leaves nothing behind
	// Install into a private dir, then rename: two runs building the same
	// version at once each get a whole binary.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, goCmd, "install", "-trimpath", module+"@"+version)
	cmd.Dir = tmp // outside any module: go install pkg@version ignores the current one anyway
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("building %s %s: %w", name, version, ctx.Err())
		}
		err = fmt.Errorf("building %s %s: go install: %v: %s", name, version, err, lastN(out.String(), 5))
		for _, no := range []string{"not available", "unknown revision", "invalid version", "no matching versions"} {
			if strings.Contains(out.String(), no) {
				return "", &SpecError{err}
			}
		}
		return "", err
	}
	if err := os.Rename(filepath.Join(tmp, name), bin); err != nil {
		return "", fmt.Errorf("building %s %s: %w", name, version, err)
	}
	return bin, nil
}

// SpecError is a cluster.server value that cannot work: a path that is not
// an executable, or a version the module proxy does not have. Other build
// failures (an interrupt, the proxy unreachable) are plain errors.
type SpecError struct{ Err error }

func (e *SpecError) Error() string { return e.Err.Error() }
func (e *SpecError) Unwrap() error { return e.Err }

// lastN is the last n lines of s, on one line.
func lastN(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
