package scenarios

import "jetstorm/units"

// The scenario value types live in package units, which faults shares.
type (
	Duration     = units.Duration
	Size         = units.Size
	DataSize     = units.DataSize
	SyncInterval = units.SyncInterval
)

// MaxSize bounds Size: larger payloads are a typo, not a test.
const MaxSize = units.MaxSize
