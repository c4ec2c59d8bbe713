package termlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options configure a Handler.
type Options struct {
	Level slog.Leveler // minimum level; nil: info
	Start time.Time    // times are shown since this; zero: when the Handler is made
}

// Handler is a slog.Handler for people: one dense line per record, the
// time since the run started first, warnings marked, attributes in their
// natural reading where they have one:
//
//	12.0s  fault partition halves n1 | n2 n3 for 6s
//	26.1s  healed kill n1
//	30.0s  WARN fault not injected kill err: no leader
//
// Each record is written with one Write (to a Screen: above the bar).
type Handler struct {
	w     io.Writer
	level slog.Leveler
	start time.Time
	attrs []slog.Attr // from WithAttrs, keys qualified by their groups
	group string      // "a.b." from WithGroup
}

// NewHandler returns a Handler writing to w (nil o: defaults).
func NewHandler(w io.Writer, o *Options) *Handler {
	h := &Handler{w: w, level: slog.LevelInfo, start: time.Now()}
	if o != nil {
		if o.Level != nil {
			h.level = o.Level
		}
		if !o.Start.IsZero() {
			h.start = o.Start
		}
	}
	return h
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = slices.Clip(c.attrs)
	for _, a := range as {
		c.attrs = flatten(c.attrs, c.group, a)
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group += name + "."
	return &c
}

// Handle implements slog.Handler.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%6.1fs  ", t.Sub(h.start).Seconds())
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("ERROR ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("WARN ")
	case r.Level < slog.LevelInfo:
		b.WriteString("DEBUG ")
	}
	b.WriteString(r.Message)
	attrs := slices.Clone(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		attrs = flatten(attrs, h.group, a)
		return true
	})
	sides := slices.ContainsFunc(attrs, func(a slog.Attr) bool { return a.Key == "sides" })
	for _, a := range attrs {
		if a.Key == "nodes" && sides { // a partition's sides name its nodes
			continue
		}
		if s := attrText(a); s != "" {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(h.w, b.String())
	return err
}

// flatten appends a (groups inlined as dotted keys) to as.
func flatten(as []slog.Attr, prefix string, a slog.Attr) []slog.Attr {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return as
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			as = flatten(as, p, g)
		}
		return as
	}
	a.Key = prefix + a.Key
	return append(as, a)
}

// Keys shown by their value alone, and keys read as "key value".
var (
	bareKeys  = map[string]bool{"kind": true, "type": true, "shape": true, "sides": true, "elapsed": true, "status": true}
	wordKeys  = map[string]bool{"for": true, "of": true}
	errorKeys = map[string]bool{"err": true, "error": true}
)

// attrText is one attribute as the line shows it ("" for nothing).
func attrText(a slog.Attr) string {
	v := valueText(a.Value)
	switch {
	case bareKeys[a.Key], a.Key == "nodes" && a.Value.Kind() == slog.KindAny: // node names, not a count
		return v
	case wordKeys[a.Key]:
		return a.Key + " " + v
	case errorKeys[a.Key]:
		return a.Key + ": " + v
	}
	if v == "" || strings.ContainsAny(v, " \t\n\"=") {
		v = strconv.Quote(v)
	}
	return a.Key + "=" + v
}

// valueText renders a value compactly: lists space-separated, lists of
// lists (a partition's sides) separated by " | ".
func valueText(v slog.Value) string {
	if v.Kind() != slog.KindAny {
		return v.String()
	}
	switch x := v.Any().(type) {
	case []string:
		return strings.Join(x, " ")
	case [][]string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = strings.Join(s, " ")
		}
		return strings.Join(parts, " | ")
	case error:
		return x.Error()
	}
	return fmt.Sprint(v.Any())
}
