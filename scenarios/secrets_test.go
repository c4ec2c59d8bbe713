package scenarios

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"gopkg.in/yaml.v3"

	"jetstorm/checker"
	"jetstorm/internal/natstest"
)

// secretsWorkload is the tiny load of every login test.
const secretsWorkload = "stream: {replicas: 1, storage: memory}\n" +
	"workload: {type: queue, clients: 2, rate: 50, duration: 2s}\n"

// capturedOptions are run options whose log (debug level and up),
// summary and progress all go to the returned buffer (lockedBuffer:
// progress_test.go).
func capturedOptions() (RunOptions, *lockedBuffer) {
	out := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return RunOptions{Log: log, Summary: out, Progress: out}, out
}

// checkNoSecrets fails the test for every file under dir (gzip-compressed
// files read uncompressed) and every named text in more (a log, an error
// message) that holds one of secrets. It returns the files' contents by
// path relative to dir.
func checkNoSecrets(t *testing.T, dir string, more map[string]string, secrets ...string) map[string]string {
	t.Helper()
	for _, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("secret %q too short to look for", s)
		}
	}
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return err
			}
			if b, err = io.ReadAll(zr); err != nil {
				return err
			}
		}
		rel, _ := filepath.Rel(dir, p)
		files[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Errorf("%s holds no files", dir)
	}
	check := func(where, text string) {
		for i, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s holds secret #%d (%.12s...)", where, i, s)
			}
		}
	}
	for p, text := range files {
		check(filepath.Join(dir, p), text)
	}
	for name, text := range more {
		check(name, text)
	}
	return files
}

// runNoSecrets runs a scenario (runYAML) with its log, summary and
// progress captured, checks that the run was valid (it logged in) and
// that none of secrets is in its run directory or its output, and
// returns the saved scenario.yaml, decoded.
func runNoSecrets(t *testing.T, text string, secrets ...string) map[string]any {
	t.Helper()
	opt, out := capturedOptions()
	o := runYAML(t, text, opt)
	if o.Results.Verdict != checker.Valid || o.Err != nil {
		t.Errorf("verdict %s (err %v), want valid: the run logged in and worked", o.Results.Verdict, o.Err)
	}
	if q := o.Results.Queue; q == nil || q.Acked == 0 {
		t.Errorf("no acked writes: %+v", q)
	}
	if out.String() == "" {
		t.Error("the run logged nothing: the log check is void")
	}
	files := checkNoSecrets(t, o.Dir, map[string]string{"the run's log and summary": out.String()}, secrets...)
	var saved map[string]any
	if err := yaml.Unmarshal([]byte(files["scenario.yaml"]), &saved); err != nil || saved == nil {
		t.Fatalf("scenario.yaml: %v\n%s", err, files["scenario.yaml"])
	}
	if t.Failed() {
		t.Logf("log:\n%s", out)
	}
	return saved
}

// savedCluster is the cluster section of a saved scenario.
func savedCluster(t *testing.T, saved map[string]any) map[string]any {
	t.Helper()
	c, ok := saved["cluster"].(map[string]any)
	if !ok {
		t.Fatalf("scenario.yaml has no cluster section: %v", saved)
	}
	return c
}

// writeSecretFile writes text to name in a temporary directory, readable
// by its owner only, and returns its path.
func writeSecretFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A run against an external cluster whose URL carries a password leaves
// that password nowhere in its run directory (scenario.yaml keeps the URL
// with the password redacted), and the run itself used it.
func TestExternalPasswordNotSaved(t *testing.T) {
	const secret = "pw-7d1f-secret"
	s := natstest.Run(t, server.Options{JetStream: true, Username: "app", Password: secret})
	url := strings.Replace(s.ClientURL(), "nats://", "nats://app:"+secret+"@", 1)
	saved := runNoSecrets(t, "name: secrets\ncluster: {backend: external, urls: ['"+url+"']}\n"+secretsWorkload, secret)
	urls, _ := savedCluster(t, saved)["urls"].([]any)
	if len(urls) != 1 || !strings.Contains(urls[0].(string), "app:REDACTED@") {
		t.Errorf("scenario.yaml urls %v, want the URL with its password redacted", urls)
	}
}

// user and password given as keys log in; the password is nowhere in the
// run directory or the log, and scenario.yaml keeps the user with the
// password redacted.
func TestExternalUserPasswordKeys(t *testing.T) {
	const secret = "pw-key-93ac-secret"
	s := natstest.Run(t, server.Options{JetStream: true, Username: "app", Password: secret})
	saved := runNoSecrets(t, "name: secrets-user\ncluster: {backend: external, urls: ['"+s.ClientURL()+"'], user: app, password: '"+secret+"'}\n"+
		secretsWorkload, secret)
	c := savedCluster(t, saved)
	if c["user"] != "app" || c["password"] != "REDACTED" {
		t.Errorf("scenario.yaml cluster user %v password %v, want app and REDACTED", c["user"], c["password"])
	}
}

// An nkey seed file logs in; the seed is nowhere in the run directory or
// the log, and scenario.yaml keeps the file's path.
func TestExternalNKeyFile(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	path := writeSecretFile(t, "user.nk", string(seed)+"\n")
	s := natstest.Run(t, server.Options{JetStream: true, Nkeys: []*server.NkeyUser{{Nkey: pub}}})
	saved := runNoSecrets(t, "name: secrets-nkey\ncluster: {backend: external, urls: ['"+s.ClientURL()+"'], nkey: '"+path+"'}\n"+
		secretsWorkload, string(seed))
	if c := savedCluster(t, saved); c["nkey"] != path {
		t.Errorf("scenario.yaml cluster nkey %v, want the path %s", c["nkey"], path)
	}
}

// A .creds file (operator mode: a user JWT signed by an account with
// JetStream, and the user's nkey seed) logs in; neither the seed nor the
// JWT is in the run directory or the log, and scenario.yaml keeps the
// file's path.
func TestExternalCredsFile(t *testing.T) {
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	okp, err := nkeys.CreateOperator()
	must(err)
	opub, _ := okp.PublicKey()
	op := jwt.NewOperatorClaims(opub)
	opJWT, err := op.Encode(okp)
	must(err)
	if op, err = jwt.DecodeOperatorClaims(opJWT); err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	account := func(js bool) (nkeys.KeyPair, string) {
		kp, err := nkeys.CreateAccount()
		must(err)
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		if js {
			ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
		}
		j, err := ac.Encode(okp)
		must(err)
		must(resolver.Store(pub, j))
		return kp, pub
	}
	_, sysPub := account(false)
	akp, _ := account(true)

	ukp, err := nkeys.CreateUser()
	must(err)
	upub, _ := ukp.PublicKey()
	userJWT, err := jwt.NewUserClaims(upub).Encode(akp)
	must(err)
	seed, _ := ukp.Seed()
	creds, err := jwt.FormatUserConfig(userJWT, seed)
	must(err)
	path := writeSecretFile(t, "user.creds", string(creds))

	s := natstest.Run(t, server.Options{JetStream: true, TrustedOperators: []*jwt.OperatorClaims{op},
		AccountResolver: resolver, SystemAccount: sysPub})
	saved := runNoSecrets(t, "name: secrets-creds\ncluster: {backend: external, urls: ['"+s.ClientURL()+"'], creds: '"+path+"'}\n"+
		secretsWorkload, string(seed), userJWT)
	if c := savedCluster(t, saved); c["creds"] != path {
		t.Errorf("scenario.yaml cluster creds %v, want the path %s", c["creds"], path)
	}
}

// An external cluster lost mid-run (the error paths: failed publishes in
// the history, the lost-cluster error, the monitor URL no longer
// answering) leaves the password of its client and monitor URLs nowhere
// in the run directory, the log or the run's error.
func TestExternalLostKeepsPasswordOut(t *testing.T) {
	const secret = "pw-lost-4c9e-secret"
	s := natstest.Run(t, server.Options{JetStream: true, Username: "app", Password: secret, HTTPPort: -1})
	url := strings.Replace(s.ClientURL(), "nats://", "nats://app:"+secret+"@", 1)
	monAddr := s.MonitorAddr().String() // nil once the server is down
	mon := "http://app:" + secret + "@" + monAddr
	stop := time.AfterFunc(3*time.Second, s.Shutdown)
	defer stop.Stop()
	opt, out := capturedOptions()
	o := runYAML(t, "name: secrets-lost\ncluster: {backend: external, urls: ['"+url+"'], monitor_urls: ['"+mon+"'], lost_after: 2s}\n"+
		"stream: {replicas: 1, storage: memory}\nworkload: {type: queue, clients: 2, rate: 50, duration: 60s}\n", opt)
	if o.Err == nil || !strings.Contains(o.Err.Error(), "lost the cluster") {
		t.Fatalf("run error %v, want the cluster lost", o.Err)
	}
	if q := o.Results.Queue; q == nil || q.Acked == 0 {
		t.Errorf("no acked writes before the server went away: %+v", q)
	}
	files := checkNoSecrets(t, o.Dir, map[string]string{"the run's log and summary": out.String(), "the run's error": o.Err.Error()}, secret)
	if !strings.Contains(files["scenario.yaml"], "http://app:REDACTED@"+monAddr) {
		t.Errorf("scenario.yaml does not hold the redacted monitor URL:\n%s", files["scenario.yaml"])
	}
	if t.Failed() {
		t.Logf("log:\n%s", out)
	}
}

// A wrong password given as a key is refused before the run: Run returns
// a *ConfigError (exit 3) naming the URL and saying the credentials were
// refused, and neither the error, the log nor the run directory holds the
// password.
func TestExternalWrongPasswordRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real server; skipped with -short")
	}
	const right, wrong = "pw-right-5e21-secret", "pw-wrong-0b7d-secret"
	s := natstest.Run(t, server.Options{JetStream: true, Username: "app", Password: right})
	url := s.ClientURL()
	sc, err := Parse([]byte("name: secrets-refused\ncluster: {backend: external, urls: ['"+url+"'], user: app, password: '"+wrong+"'}\n"+
		secretsWorkload), "test.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	opt, out := capturedOptions()
	opt.OutDir = filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	o, err := Run(ctx, sc, opt)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Run = %v, %v; want a *ConfigError", o, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, url) || !strings.Contains(msg, "credentials were refused") {
		t.Errorf("error %q: want it to name %s and say the credentials were refused", msg, url)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("refused after %s: the probe should fail fast", d.Round(time.Second))
	}
	more := map[string]string{"the error": msg, "the run's log": out.String()}
	if _, err := os.Stat(opt.OutDir); err == nil {
		checkNoSecrets(t, opt.OutDir, more, wrong, right)
	} else {
		for name, text := range more {
			if strings.Contains(text, wrong) || strings.Contains(text, right) {
				t.Errorf("%s holds a password: %s", name, text)
			}
		}
	}
}

// A --set carrying a password (in a URL, or as cluster.password) is shown
// REDACTED in the errors that name it.
func TestSetPasswordRedacted(t *testing.T) {
	for _, set := range []string{
		"cluster={backend: external, urls: [nats://alice:s3cret@127.0.0.1:1], nodes: 0}",
		"cluster.password=s3cret",
	} {
		_, err := Parse([]byte("name: x\ncluster: {backend: external, urls: ['nats://127.0.0.1:1']}\n"), "x.yaml", []string{set})
		if err == nil || !strings.Contains(err.Error(), "--set cluster") {
			t.Fatalf("--set %s: %v, want an error naming it", set, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("--set %s: the error shows the password: %v", set, err)
		}
	}
	if got := redactSet("cluster={urls: [nats://alice:s3cret@h:1, 'tls://u:p@h:2'], password: pw}"); strings.Contains(got, "s3cret") || strings.Contains(got, ":p@") || strings.Contains(got, "pw}") {
		t.Errorf("redactSet: %s", got)
	}
}
