// Package units holds the YAML value types that scenario files and fault
// parameters share: Duration, Size and SyncInterval. It is a leaf package
// (it imports no jetstorm package), so scenarios, faults and clusters can
// all use it.
//
// The types parse themselves from YAML scalars. Their YAML errors are
// *yaml.TypeError values of the form "line N: ...": yaml.v3 then keeps
// decoding and reports every bad value at once, and scenarios.Parse
// rewrites "line N" into "file:N". JSON uses MarshalText/UnmarshalText, so
// reports show "1m0s" and "128B" rather than raw integers.
package units

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ScalarText returns the text of a YAML scalar, or a line-numbered error
// naming what was expected.
func ScalarText(value *yaml.Node, what string) (string, error) {
	if value.Kind != yaml.ScalarNode {
		return "", LineError(value, "%s must be a single value, got a %s", what, KindName(value.Kind))
	}
	return strings.TrimSpace(value.Value), nil
}

// LineError is a *yaml.TypeError "line N: msg" for node n, so yaml.v3 keeps
// decoding and the scenario loader can name file:N.
func LineError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
}

// KindName names a YAML node kind for messages: mapping, list, scalar.
func KindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	}
	return "document"
}

// Duration is a non-negative time.Duration written as a Go duration string
// ("60s", "1m30s", "500ms").
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

func parseDuration(s string) (time.Duration, error) {
	// time.ParseDuration accepts a bare "0"; a unit is required so "60" is
	// not silently read as 60ns.
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("duration %q has no unit (want e.g. 60s, 1m30s, 500ms)", s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 60s, 1m30s, 500ms)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q must not be negative", s)
	}
	return d, nil
}

func (d *Duration) UnmarshalYAML(value *yaml.Node) error {
	s, err := ScalarText(value, "a duration")
	if err != nil {
		return err
	}
	v, err := parseDuration(s)
	if err != nil {
		return LineError(value, "%v", err)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error)    { return d.String(), nil }
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err == nil {
		*d = Duration(v)
	}
	return err
}

// SyncInterval is JetStream's sync_interval: "always" (fsync every write)
// or a positive duration. The zero value means "unset": the server default.
type SyncInterval struct {
	always bool
	d      time.Duration
}

// Always reports whether every write is synced.
func (s SyncInterval) Always() bool { return s.always }

// Interval is the sync period; 0 when Always or unset.
func (s SyncInterval) Interval() time.Duration { return s.d }

// IsZero reports whether the value is unset (server default).
func (s SyncInterval) IsZero() bool { return !s.always && s.d == 0 }

// String is "always", a duration such as "2m0s", or "" when unset.
func (s SyncInterval) String() string {
	switch {
	case s.always:
		return "always"
	case s.d > 0:
		return s.d.String()
	}
	return ""
}

// SyncAlways is the sync_interval "always".
func SyncAlways() SyncInterval { return SyncInterval{always: true} }

// SyncEvery is a sync_interval of d (0: unset).
func SyncEvery(d time.Duration) SyncInterval { return SyncInterval{d: max(d, 0)} }

// ConfString is the value to write after "sync_interval: " in a nats-server
// config file, or "" when unset. Durations are quoted: the config lexer
// reads a bare "1m" as the size 1000000 and rejects a bare "1.5s".
func (s SyncInterval) ConfString() string {
	if s.IsZero() {
		return ""
	}
	if s.always {
		return "always"
	}
	return fmt.Sprintf("%q", s.String())
}

// ParseSyncInterval reads "always" (any case) or a positive duration with
// a unit; "" is the zero value (unset).
func ParseSyncInterval(s string) (SyncInterval, error) {
	switch {
	case s == "":
		return SyncInterval{}, nil
	case strings.EqualFold(s, "always"):
		return SyncInterval{always: true}, nil
	}
	d, err := parseDuration(s)
	if err != nil || d == 0 {
		return SyncInterval{}, fmt.Errorf(`sync_interval %q must be "always" or a positive duration such as 1s or 2m`, s)
	}
	return SyncInterval{d: d}, nil
}

func (s *SyncInterval) UnmarshalYAML(value *yaml.Node) error {
	text, err := ScalarText(value, "sync_interval")
	if err != nil {
		return err
	}
	v, err := ParseSyncInterval(text)
	if err != nil {
		return LineError(value, "%v", err)
	}
	*s = v
	return nil
}

func (s SyncInterval) MarshalYAML() (any, error)    { return s.String(), nil }
func (s SyncInterval) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *SyncInterval) UnmarshalText(b []byte) error {
	v, err := ParseSyncInterval(string(b))
	if err == nil {
		*s = v
	}
	return err
}

// Size is a byte count: "128B", "4KB" (1000), "1KiB" (1024), "2MB", "1MiB"
// or a bare integer (bytes). At most MaxSize.
type Size int

// MaxSize bounds Size: larger payloads are a typo, not a test.
const MaxSize = 64 << 20

var sizeUnits = map[string]int64{"": 1, "B": 1, "KB": 1000, "KiB": 1 << 10, "MB": 1000 * 1000, "MiB": 1 << 20}

// Bytes returns the size in bytes.
func (z Size) Bytes() int { return int(z) }

// String uses the largest binary unit that is exact, so it parses back.
func (z Size) String() string {
	switch {
	case z > 0 && z%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", z>>20)
	case z > 0 && z%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", z>>10)
	}
	return fmt.Sprintf("%dB", int(z))
}

func parseSize(s string) (Size, error) {
	n, err := parseBytes(s, sizeUnits, "B, KB, KiB, MB or MiB, e.g. 128B", MaxSize, Size(MaxSize).String())
	return Size(n), err
}

// parseBytes parses an integer with one of units, at most max (maxText).
func parseBytes(s string, units map[string]int64, want string, max int64, maxText string) (int64, error) {
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("size %q must not be negative", s)
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	mult, ok := units[strings.TrimSpace(s[i:])]
	if i == 0 || !ok {
		return 0, fmt.Errorf("invalid size %q (want an integer with unit %s)", s, want)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > max/mult {
		return 0, fmt.Errorf("size %q is larger than %s", s, maxText)
	}
	return n * mult, nil
}

// DataSize is an amount of data (a backlog): a Size's units and GB, GiB,
// TB, TiB, at most 1 TiB.
type DataSize int64

const maxDataSize = 1 << 40

var dataUnits = map[string]int64{"": 1, "B": 1, "KB": 1000, "KiB": 1 << 10, "MB": 1000 * 1000, "MiB": 1 << 20,
	"GB": 1000 * 1000 * 1000, "GiB": 1 << 30, "TB": 1000 * 1000 * 1000 * 1000, "TiB": 1 << 40}

func parseDataSize(s string) (DataSize, error) {
	n, err := parseBytes(s, dataUnits, "B, KB, KiB, MB, MiB, GB, GiB, TB or TiB, e.g. 1GiB", maxDataSize, "1TiB")
	return DataSize(n), err
}

// String uses the largest binary unit that is exact, so it parses back.
func (z DataSize) String() string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if z > 0 && z%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d%s", z>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%dB", int64(z))
}

func (z *DataSize) UnmarshalYAML(value *yaml.Node) error {
	s, err := ScalarText(value, "a size")
	if err != nil {
		return err
	}
	v, err := parseDataSize(s)
	if err != nil {
		return LineError(value, "%v", err)
	}
	*z = v
	return nil
}

func (z DataSize) MarshalYAML() (any, error)    { return z.String(), nil }
func (z DataSize) MarshalText() ([]byte, error) { return []byte(z.String()), nil }

func (z *DataSize) UnmarshalText(b []byte) error {
	v, err := parseDataSize(string(b))
	if err == nil {
		*z = v
	}
	return err
}

func (z *Size) UnmarshalYAML(value *yaml.Node) error {
	s, err := ScalarText(value, "a size")
	if err != nil {
		return err
	}
	v, err := parseSize(s)
	if err != nil {
		return LineError(value, "%v", err)
	}
	*z = v
	return nil
}

func (z Size) MarshalYAML() (any, error)    { return z.String(), nil }
func (z Size) MarshalText() ([]byte, error) { return []byte(z.String()), nil }

func (z *Size) UnmarshalText(b []byte) error {
	v, err := parseSize(string(b))
	if err == nil {
		*z = v
	}
	return err
}

// JoinTypeErrors joins the line-numbered errors of several decodes into
// one *yaml.TypeError (each message once), so yaml.v3 keeps decoding and
// reports them all; an error of another type is returned as it is.
func JoinTypeErrors(errs ...error) error {
	var msgs []string
	seen := map[string]bool{}
	for _, err := range errs {
		if err == nil {
			continue
		}
		te, ok := err.(*yaml.TypeError)
		if !ok {
			return err
		}
		for _, m := range te.Errors {
			if !seen[m] {
				seen[m] = true
				msgs = append(msgs, m)
			}
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return &yaml.TypeError{Errors: msgs}
}
