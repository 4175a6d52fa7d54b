package hub

import (
	"slices"
	"testing"
)

func TestSubSet(t *testing.T) {
	var ss subSet
	ka, kb, kc := chanKey{kindAccount, "A"}, chanKey{kindAccount, "B"}, chanKey{kindSession, "A"}
	a, b, c := &sub{key: ka}, &sub{key: kb}, &sub{key: kc}
	check := func(step string, want ...*sub) {
		t.Helper()
		if got := ss.len(); got != len(want) {
			t.Fatalf("%s: got len %d, want %d", step, got, len(want))
		}
		got := ss.list()
		for _, s := range want {
			if ss.get(s.key) != s || !slices.Contains(got, s) {
				t.Fatalf("%s: %v missing", step, s.key)
			}
		}
	}
	check("empty")
	if ss.get(ka) != nil {
		t.Fatal("empty set: got a subscription, want nil")
	}
	ss.add(a)
	check("one", a)
	ss.add(b)
	ss.add(c)
	check("three", a, b, c)
	ss.remove(ka) // the inline one goes; the map keeps the others
	check("first removed", b, c)
	if ss.get(ka) != nil {
		t.Fatal("removed subscription still found")
	}
	ss.add(a)
	check("re-added", a, b, c)
	for _, s := range ss.list() {
		ss.remove(s.key)
	}
	check("all removed")
	ss.remove(kb) // removing what is gone is a no-op
	check("removed twice")
}
