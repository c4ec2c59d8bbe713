package units

import (
	"strings"
	"testing"
)

func TestDataSize(t *testing.T) {
	for in, want := range map[string]DataSize{"1GiB": 1 << 30, "2GB": 2e9, "512MiB": 512 << 20, "1TiB": 1 << 40, "100": 100, "3KB": 3000} {
		got, err := parseDataSize(in)
		if err != nil || got != want {
			t.Errorf("%s: got %d, %v; want %d", in, got, err, want)
		}
		if back, err := parseDataSize(got.String()); err != nil || back != got {
			t.Errorf("%s: %s does not parse back: %d, %v", in, got, back, err)
		}
	}
	for in, want := range map[string]string{"2TiB": "larger than 1TiB", "1PB": "invalid size", "-1GiB": "negative", "GiB": "invalid size"} {
		if _, err := parseDataSize(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
	// Size keeps its own bound.
	if _, err := parseSize("1GiB"); err == nil {
		t.Error("Size took 1GiB")
	}
}
