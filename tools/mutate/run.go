// Running the test binary per mutant and classifying the outcome.

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// testRun runs the test binary in the package directory with mutant id
// active; err is non-nil when a test failed or timed out.
func testRun(ctx context.Context, dir, bin string, id int, limit time.Duration, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, limit+30*time.Second)
	defer cancel()
	args = append([]string{"-test.count=1", "-test.timeout=" + limit.String()}, args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", envVar, id))
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

// testMutant runs the fast tests, then the slow ones, with mutant id.
func testMutant(ctx context.Context, dir, bin string, id int, slow []string, limit time.Duration) (status, string) {
	phases := [][]string{{"-test.failfast"}}
	if len(slow) > 0 {
		re := "^(" + strings.Join(slow, "|") + ")$"
		phases = [][]string{{"-test.failfast", "-test.skip", re}, {"-test.failfast", "-test.run", re}}
	}
	for _, args := range phases {
		out, err := testRun(ctx, dir, bin, id, limit, args...)
		if ctx.Err() != nil {
			return notRun, ""
		}
		if err != nil {
			if bytes.Contains(out, []byte("panic: test timed out")) || errors.Is(err, context.DeadlineExceeded) {
				return timedOut, "timeout"
			}
			return killed, firstFailure(out)
		}
	}
	return survived, ""
}

var failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)

func firstFailure(out []byte) string {
	all := failLine.FindAllSubmatch(out, -1)
	if len(all) == 0 {
		if bytes.Contains(out, []byte("panic:")) {
			return "a panic"
		}
		return "a failure"
	}
	return string(all[len(all)-1][1]) // the innermost comes first; the top-level test last
}

var passLine = regexp.MustCompile(`(?m)^--- PASS: (\S+) \(([0-9.]+)s\)`)

// slowTests lists the top-level tests of a -test.v run that took at least
// min.
func slowTests(out []byte, min time.Duration) []string {
	var slow []string
	for _, m := range passLine.FindAllSubmatch(out, -1) {
		s, _ := strconv.ParseFloat(string(m[2]), 64)
		if time.Duration(s*float64(time.Second)) >= min {
			slow = append(slow, regexp.QuoteMeta(string(m[1])))
		}
	}
	return slow
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
