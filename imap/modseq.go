package imap

import "slices"

// modSeqs is the view's MODSEQ column (RFC 7162): 4 bytes a message while
// every MODSEQ fits in 32 bits, 8 after. MODSEQs count a user's changes
// from 1, so the wide form needs four billion of them first.
type modSeqs struct {
	narrow []uint32
	wide   []uint64 // non-nil once a value did not fit in narrow
}

func (c *modSeqs) len() int {
	if c.wide != nil {
		return len(c.wide)
	}
	return len(c.narrow)
}

func (c *modSeqs) at(i int) uint64 {
	if c.wide != nil {
		return c.wide[i]
	}
	return uint64(c.narrow[i])
}

// widen switches to 8 bytes a message.
func (c *modSeqs) widen() {
	c.wide = make([]uint64, len(c.narrow), max(cap(c.narrow), 1))
	for i, m := range c.narrow {
		c.wide[i] = uint64(m)
	}
	c.narrow = nil
}

func (c *modSeqs) set(i int, m uint64) {
	if c.wide == nil && m > 1<<32-1 {
		c.widen()
	}
	if c.wide != nil {
		c.wide[i] = m
		return
	}
	c.narrow[i] = uint32(m)
}

func (c *modSeqs) append(m uint64) {
	if c.wide == nil && m > 1<<32-1 {
		c.widen()
	}
	if c.wide != nil {
		c.wide = append(c.wide, m)
		return
	}
	c.narrow = append(c.narrow, uint32(m))
}

func (c *modSeqs) delete(i int) {
	if c.wide != nil {
		c.wide = slices.Delete(c.wide, i, i+1)
		return
	}
	c.narrow = slices.Delete(c.narrow, i, i+1)
}

// grow makes room for n more.
func (c *modSeqs) grow(n int) {
	if c.wide != nil {
		c.wide = slices.Grow(c.wide, n)
		return
	}
	c.narrow = slices.Grow(c.narrow, n)
}

// highest returns the largest MODSEQ (0 when empty).
func (c *modSeqs) highest() uint64 {
	var h uint64
	for i := range c.len() {
		h = max(h, c.at(i))
	}
	return h
}

// truncate keeps the first n.
func (c *modSeqs) truncate(n int) {
	if c.wide != nil {
		c.wide = c.wide[:n]
		return
	}
	c.narrow = c.narrow[:n]
}
