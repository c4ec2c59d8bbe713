package history

import (
	"bufio"
	"bytes"
	"io"
)

// Skimmed is what a reader of a history needs before its one pass over
// the ops: the meta op (what kind of run, so which checks), the faults
// (so a publish can be judged calm, outside every fault, as it completes)
// and the run's own errors.
type Skimmed struct {
	Meta      *Op  // the first meta op; nil when there is none
	Faults    []Op // every fault op, in file order
	RunErrors []Op // every run-error op, in file order
	// Truncated: the last line is cut (no newline, and it does not
	// decode), as Stream finds it (ErrTruncated).
	Truncated bool
}

// Skim reads path for its meta, fault and run-error ops without decoding
// the rest: only lines that mention one of those names are decoded. Lines
// that do not decode are passed over: the full read (Stream) reports them.
func Skim(path string) (Skimmed, error) {
	f, err := open(path)
	if err != nil {
		return Skimmed{}, err
	}
	defer f.Close()
	return SkimFrom(f)
}

// SkimFrom is Skim over the JSON lines of r.
func SkimFrom(r io.Reader) (Skimmed, error) {
	var s Skimmed
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for {
		b, err := readLine(br, buf[:0])
		buf = b
		if len(b) > 0 && (s.Meta == nil && bytes.Contains(b, []byte(FMeta)) ||
			bytes.Contains(b, []byte(FFault)) || bytes.Contains(b, []byte(FRunError))) {
			if op, derr := decodeOp(b); derr == nil {
				s.add(op)
			}
		}
		if cut(err) {
			s.Truncated = true
			return s, nil
		}
		if err == io.EOF {
			if len(b) > 0 {
				_, derr := decodeOp(b)
				s.Truncated = derr != nil
			}
			return s, nil
		}
		if err != nil {
			return s, err
		}
	}
}

func (s *Skimmed) add(op Op) {
	switch op.F {
	case FMeta:
		if s.Meta == nil {
			s.Meta = &op
		}
	case FFault:
		s.Faults = append(s.Faults, op)
	case FRunError:
		s.RunErrors = append(s.RunErrors, op)
	}
}

// SkimOps is Skim over a history held in memory.
func SkimOps(h []Op) Skimmed {
	var s Skimmed
	for _, op := range h {
		s.add(op)
	}
	return s
}
