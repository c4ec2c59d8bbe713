package scenarios

import "jetstorm/units"

// The scenario value types live in package units, which faults shares.
type (
	Duration     = units.Duration
	Size         = units.Size
	SyncInterval = units.SyncInterval
)

// MaxSize bounds Size: larger payloads are a typo, not a test.
const MaxSize = units.MaxSize
