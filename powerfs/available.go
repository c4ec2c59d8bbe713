package powerfs

import (
	"fmt"
	"os"
)

// Available returns nil if powerfs can mount here: /dev/fuse exists and can
// be opened, and we are root (DirectMount needs CAP_SYS_ADMIN; there is no
// fusermount fallback). Otherwise the error says why.
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("powerfs: needs root to mount FUSE without fusermount (euid %d)", os.Geteuid())
	}
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("powerfs: /dev/fuse unavailable: %w", err)
	}
	f.Close()
	return nil
}

// RequireEnv, when set (CI on machines that have FUSE), turns a test's
// skip for lack of powerfs into a failure: a test that skips cannot fail.
const RequireEnv = "JETSTORM_REQUIRE_FUSE"

// NeedInTest skips tb when powerfs cannot mount here, saying why, or fails
// it when RequireEnv is set.
func NeedInTest(tb interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}) {
	tb.Helper()
	err := Available()
	switch {
	case err == nil:
	case os.Getenv(RequireEnv) != "":
		tb.Fatalf("%v (%s is set: the power-loss filesystem must be available here)", err, RequireEnv)
	default:
		tb.Skipf("needs the power-loss filesystem: %v", err)
	}
}
