package scenarios

import (
	"reflect"
	"strings"
	"testing"

	"jetstorm/faults"
)

// The fault kinds' parameter keys do not shadow a step's or the faults:
// section's own keys.
func TestFaultParamKeys(t *testing.T) {
	own := func(t reflect.Type) []string {
		var keys []string
		for f := range t.Fields() {
			if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "-" && f.IsExported() {
				keys = append(keys, name)
			}
		}
		return keys
	}
	if err := faults.CheckKeys(own(reflect.TypeFor[Step]()), own(reflect.TypeFor[Faults]())); err != nil {
		t.Error(err)
	}
}
