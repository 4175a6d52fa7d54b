package redisstore

import "sync"

// accountCache remembers sessionId → accountId, which never changes once a
// session exists, so a PATCH needs no lookup round trip. It is bounded by two
// generations of at most half its size each: a hit in the old generation moves
// to the new one, and when the new one fills, the old one is dropped. That keeps
// the recently used ids at O(1) cost, as an LRU would, without a list.
type accountCache struct {
	mu       sync.Mutex
	max      int
	cur, old map[string]string
}

func newAccountCache(size int) *accountCache {
	if size < 2 {
		size = 2
	}
	return &accountCache{max: size / 2, cur: make(map[string]string), old: make(map[string]string)}
}

func (c *accountCache) get(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.cur[id]; ok {
		return a, true
	}
	a, ok := c.old[id]
	if ok {
		c.putLocked(id, a)
	}
	return a, ok
}

func (c *accountCache) put(id, acct string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(id, acct)
}

func (c *accountCache) putLocked(id, acct string) {
	if _, ok := c.cur[id]; !ok && len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[string]string, c.max)
	}
	c.cur[id] = acct
}

// drop forgets id, when Redis says the cached mapping no longer holds (its data
// was lost and the id reused in another account).
func (c *accountCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cur, id)
	delete(c.old, id)
}

func (c *accountCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
