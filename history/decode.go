package history

import (
	"encoding/json"
	"strconv"
	"time"
)

// decodeOp parses one history line. The lines jetstorm writes take a fast
// path that reads the known keys without reflection (and, for the common
// functions and types, without allocating their names); anything it is
// not sure of (an unknown or differently cased key, an escape or a
// non-ASCII byte in a string, null, a number it does not expect) goes to
// encoding/json, which decides, with its own errors. FuzzDecodeOp holds
// the fast path to encoding/json's answer.
func decodeOp(b []byte) (Op, error) {
	if op, ok := fastOp(b); ok {
		return op, nil
	}
	var op Op
	err := json.Unmarshal(b, &op)
	return op, err
}

// fastOp is decodeOp's fast path; ok false: let encoding/json decide.
func fastOp(b []byte) (op Op, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return op, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return op, false // {} is valid but rare: encoding/json
	}
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return op, false
		}
		j = skipSpace(b, j)
		if j >= len(b) || b[j] != ':' {
			return op, false
		}
		j = skipSpace(b, j+1)
		switch string(key) { // no allocation: the compiler compares in place
		case "index":
			op.Index, j, ok = plainInt(b, j)
		case "process":
			var n int64
			n, j, ok = plainInt(b, j)
			op.Process = int(n)
		case "type":
			var s []byte
			s, j, ok = plainString(b, j)
			op.Type = OpType(intern(s))
		case "f":
			var s []byte
			s, j, ok = plainString(b, j)
			op.F = intern(s)
		case "value":
			op.Value, j, ok = anyValue(b, j)
		case "seq":
			op.Seq, j, ok = plainUint(b, j)
		case "node":
			var s []byte
			s, j, ok = plainString(b, j)
			op.Node = intern(s)
		case "subject":
			var s []byte
			s, j, ok = plainString(b, j)
			op.Subject = string(s)
		case "time":
			var n int64
			n, j, ok = plainInt(b, j)
			op.Time = time.Duration(n)
		case "err":
			var s []byte
			s, j, ok = plainString(b, j)
			op.Err = string(s)
		default:
			return op, false
		}
		if !ok {
			return op, false
		}
		j = skipSpace(b, j)
		if j >= len(b) {
			return op, false
		}
		switch b[j] {
		case ',':
			i = skipSpace(b, j+1)
			continue
		case '}':
			return op, skipSpace(b, j+1) == len(b)
		}
		return op, false
	}
}

// intern returns the common names without allocating.
func intern(s []byte) string {
	switch string(s) {
	case "invoke":
		return "invoke"
	case "ok":
		return "ok"
	case "fail":
		return "fail"
	case "info":
		return "info"
	case FPublish:
		return FPublish
	case FRead:
		return FRead
	case FNodeRead:
		return FNodeRead
	case "n1":
		return "n1"
	case "n2":
		return "n2"
	case "n3":
		return "n3"
	case "n4":
		return "n4"
	case "n5":
		return "n5"
	}
	return string(s)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] that holds printable ASCII and
// no escape: its bytes, and the index after its closing quote.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, i, false
		}
	}
	return nil, i, false
}

// plainUint reads digits with no leading zero (JSON's form of an integer)
// that fit a uint64.
func plainUint(b []byte, i int) (uint64, int, bool) {
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == i || j-i > 19 || (b[i] == '0' && j-i > 1) || (j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E')) {
		return 0, i, false // 20 digits may overflow: encoding/json decides
	}
	n, err := strconv.ParseUint(string(b[i:j]), 10, 64)
	return n, j, err == nil
}

// plainInt is plainUint with an optional minus sign, fitting an int64.
func plainInt(b []byte, i int) (int64, int, bool) {
	neg := i < len(b) && b[i] == '-'
	start := i
	if neg {
		i++
	}
	u, j, ok := plainUint(b, i)
	if !ok || u > 1<<63-1 {
		return 0, start, false
	}
	if neg {
		return -int64(u), j, true
	}
	return int64(u), j, true
}

// anyValue reads the value at b[i] as encoding/json would into an any: a
// plain string itself, an object, array or number by encoding/json (the
// extent found by skipValue); null is left to encoding/json.
func anyValue(b []byte, i int) (any, int, bool) {
	if s, j, ok := plainString(b, i); ok {
		return string(s), j, true
	}
	j, ok := skipValue(b, i)
	if !ok {
		return nil, i, false
	}
	var v any
	if err := json.Unmarshal(b[i:j], &v); err != nil || v == nil {
		return nil, i, false
	}
	return v, j, true
}

// skipValue finds the end of the JSON value at b[i] (an object, array,
// string, number or literal), not validating it: encoding/json does,
// on exactly those bytes.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			case '"':
				e, ok := skipString(b, j)
				if !ok {
					return i, false
				}
				j = e - 1
			}
		}
		return i, false
	case '"':
		return skipString(b, i)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j, j > i
}

// skipString is the index after the string at b[i], escapes included.
func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return i, false
}
