package bayes

// Table is a read-only copy of a Counts's token counts laid out for
// look-ups: open addressing over one array of 16-byte slots (the token and
// its pair side by side), at most half full, so a look-up of a token is
// one cache line where Go's map reads a group's control word and then its
// slot. Scoring a long message looks up thousands of tokens in the
// 300,000 of the shared model, and those look-ups were a third of the
// scoring's time. Build it once from counts that no longer change.
type Table struct {
	slots []tableSlot
	shift uint // 64 - log2(len(slots))
	zero  Pair // the token 0, which marks an empty slot
}

type tableSlot struct {
	tok uint64
	p   Pair
}

// NewTable builds the table of c's tokens.
func NewTable(c *Counts) *Table {
	bits := uint(4)
	for 1<<bits < 2*len(c.Tokens) {
		bits++
	}
	t := &Table{slots: make([]tableSlot, 1<<bits), shift: 64 - bits}
	mask := uint64(len(t.slots) - 1)
	for tok, p := range c.Tokens {
		if tok == 0 {
			t.zero = p
			continue
		}
		i := t.home(tok)
		for t.slots[i].tok != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = tableSlot{tok, p}
	}
	return t
}

func (t *Table) home(tok uint64) uint64 { return (tok * 0x9e3779b97f4a7c15) >> t.shift }

// Get returns the counts of tok (zero if it was never seen).
func (t *Table) Get(tok uint64) Pair {
	if tok == 0 {
		return t.zero
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.home(tok); ; i = (i + 1) & mask {
		switch t.slots[i].tok {
		case tok:
			return t.slots[i].p
		case 0:
			return Pair{}
		}
	}
}
