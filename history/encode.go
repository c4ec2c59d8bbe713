package history

import (
	"encoding/json"
	"strconv"
)

// appendOp appends op as one JSON line, byte for byte as encoding/json's
// Encoder writes it (keys in field order, omitempty, HTML-safe escapes),
// without reflection for the common fields: the recorder writes two lines
// per publish, and at tens of thousands a second encoding/json was a
// quarter of jetstorm's CPU. A value that is not a plain string, and any
// string that needs escaping, goes through encoding/json. TestAppendOp
// holds it to encoding/json's bytes.
func appendOp(b []byte, op Op) ([]byte, error) {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, op.Index, 10)
	b = append(b, `,"process":`...)
	b = strconv.AppendInt(b, int64(op.Process), 10)
	b = append(b, `,"type":`...)
	b = appendString(b, string(op.Type))
	b = append(b, `,"f":`...)
	b = appendString(b, op.F)
	if op.Value != nil {
		b = append(b, `,"value":`...)
		if s, ok := op.Value.(string); ok {
			b = appendString(b, s)
		} else {
			v, err := json.Marshal(op.Value)
			if err != nil {
				return b, err
			}
			b = append(b, v...)
		}
	}
	if op.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, op.Seq, 10)
	}
	if op.Node != "" {
		b = append(b, `,"node":`...)
		b = appendString(b, op.Node)
	}
	if op.Subject != "" {
		b = append(b, `,"subject":`...)
		b = appendString(b, op.Subject)
	}
	b = append(b, `,"time":`...)
	b = strconv.AppendInt(b, int64(op.Time), 10)
	if op.Err != "" {
		b = append(b, `,"err":`...)
		b = appendString(b, op.Err)
	}
	return append(b, "}\n"...), nil
}

// appendString appends s as a JSON string: as is when it needs no escape
// (printable ASCII other than ", \, <, > and &), else as encoding/json
// writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
