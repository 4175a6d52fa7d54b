package hub

// subSet is one connection's subscriptions by channel. Most connections hold
// one, so the first lives in a field and a map is made only for more: an
// idle dashboard does not pay for a map. The reader goroutine owns it.
type subSet struct {
	one  *sub
	more map[chanKey]*sub
}

// get returns the subscription to k, or nil.
func (ss *subSet) get(k chanKey) *sub {
	if ss.one != nil && ss.one.key == k {
		return ss.one
	}
	return ss.more[k]
}

// len returns how many subscriptions there are.
func (ss *subSet) len() int {
	n := len(ss.more)
	if ss.one != nil {
		n++
	}
	return n
}

// add records s; the set holds none for s.key yet.
func (ss *subSet) add(s *sub) {
	if ss.one == nil {
		ss.one = s
		return
	}
	if ss.more == nil {
		ss.more = map[chanKey]*sub{}
	}
	ss.more[s.key] = s
}

// remove forgets the subscription to k, if any.
func (ss *subSet) remove(k chanKey) {
	if ss.one != nil && ss.one.key == k {
		ss.one = nil
		return
	}
	delete(ss.more, k)
}

// list returns the subscriptions, so that the caller may remove them while
// going through it.
func (ss *subSet) list() []*sub {
	out := make([]*sub, 0, ss.len())
	if ss.one != nil {
		out = append(out, ss.one)
	}
	for _, s := range ss.more {
		out = append(out, s)
	}
	return out
}
