package history

import "testing"

func TestBitset(t *testing.T) {
	var b Bitset
	in := []int32{0, 1, 63, 64, 65, 200}
	for _, i := range in {
		b.Add(i)
	}
	for i := int32(0); i < 300; i++ {
		want := false
		for _, j := range in {
			want = want || i == j
		}
		if b.Has(i) != want {
			t.Errorf("Has(%d) = %v", i, !want)
		}
	}
	if b.Word(0) != 1|1<<1|1<<63 || b.Word(1) != 1|1<<1 || b.Word(3) != 1<<8 || b.Word(4) != 0 || b.Word(99) != 0 {
		t.Errorf("words % x", []uint64(b))
	}
}

// Values "P-C" and others get dense ids in order of first sight; a
// value's id never changes; "01-1" is not "1-1".
func TestValueIDs(t *testing.T) {
	var v ValueIDs
	for i, s := range []string{"0-1", "x", "1-1", "0-2", "01-1", "1-01", "-1", "1-", "0-1", "x", "70000-1", "5-2000000000"} {
		id, _, isNew := v.IDKey(s)
		want := map[int]int32{8: 0, 9: 1}
		if w, again := want[i]; again {
			if isNew || id != w {
				t.Errorf("%q again: id %d new %v, want %d", s, id, isNew, w)
			}
			continue
		}
		if !isNew || int(id) != v.Len()-1 {
			t.Errorf("%q: id %d new %v, len %d", s, id, isNew, v.Len())
		}
		if got, ok := v.Lookup(s); !ok || got != id {
			t.Errorf("Lookup(%q) = %d, %v; want %d", s, got, ok, id)
		}
		if got := v.Names([]int32{id})[id]; got != s {
			t.Errorf("Names(%d) = %q, want %q", id, got, s)
		}
	}
	if _, ok := v.Lookup("2-1"); ok {
		t.Error("Lookup of an unseen value")
	}
}
