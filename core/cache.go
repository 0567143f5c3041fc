package core

import (
	"container/list"
	"sync"
)

// blobCache is an LRU of blob contents bounded by total bytes. Blobs are
// immutable and content-addressed, so entries never go stale.
type blobCache struct {
	max int64

	mu    sync.Mutex
	size  int64
	ll    *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	key string
	val []byte
}

// maxCachedBlob is the largest blob kept in the cache.
const maxCachedBlob = 1 << 20

func newBlobCache(max int64) *blobCache {
	return &blobCache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *blobCache) get(k string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*cacheEntry).val, true
	}
	return nil, false
}

func (c *blobCache) put(k string, v []byte) {
	if c.max <= 0 || len(v) > maxCachedBlob {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.ll.PushFront(&cacheEntry{k, v})
	c.size += int64(len(v))
	for c.size > c.max {
		e := c.ll.Back()
		ent := e.Value.(*cacheEntry)
		c.ll.Remove(e)
		delete(c.items, ent.key)
		c.size -= int64(len(ent.val))
	}
}

func (c *blobCache) remove(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.ll.Remove(e)
		delete(c.items, k)
		c.size -= int64(len(e.Value.(*cacheEntry).val))
	}
}
