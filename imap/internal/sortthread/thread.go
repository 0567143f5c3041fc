package sortthread

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Thread is one node of a THREAD answer: a message, or (Num 0) a dummy
// standing for messages that share a parent that is not in the set or
// threads merged by subject.
type Thread struct {
	Num      uint32
	Children []*Thread
}

// Format renders threads as the THREAD response's data (RFC 5256 section
// 4): "(1 2 (3)(4 5))(6)": a message with one child continues the list, a
// message with several children lists each child thread in parentheses.
func Format(ts []*Thread) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteByte('(')
		writeChain(&b, t)
		b.WriteByte(')')
	}
	return b.String()
}

func writeChain(b *strings.Builder, t *Thread) {
	for {
		if t.Num != 0 {
			b.WriteString(strconv.FormatUint(uint64(t.Num), 10))
		}
		switch len(t.Children) {
		case 0:
			return
		case 1:
			if t.Num != 0 {
				b.WriteByte(' ')
			}
			t = t.Children[0]
			continue
		}
		if t.Num != 0 {
			b.WriteByte(' ')
		}
		for _, c := range t.Children {
			b.WriteByte('(')
			writeChain(b, c)
			b.WriteByte(')')
		}
		return
	}
}

// OrderedSubject is THREAD=ORDEREDSUBJECT (RFC 5256 section 3): messages
// grouped by base subject, each group ordered by sent date with the first
// message the parent of all the others, groups ordered by the sent date of
// their first message.
func OrderedSubject(msgs []Message) []*Thread {
	type row struct {
		i    int
		subj string
		sent int64
	}
	rows := make([]row, len(msgs))
	for i := range msgs {
		s, _ := BaseSubject(msgs[i].Subject)
		rows[i] = row{i, asciiUpper(s), msgs[i].sent().UnixNano()}
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(strings.Compare(a.subj, b.subj), cmp.Compare(a.sent, b.sent), cmp.Compare(a.i, b.i))
	})
	type group struct {
		t    *Thread
		sent int64
		i    int
	}
	var groups []group
	for k := 0; k < len(rows); {
		j := k + 1
		for j < len(rows) && rows[j].subj == rows[k].subj {
			j++
		}
		t := &Thread{Num: msgs[rows[k].i].Num}
		for _, r := range rows[k+1 : j] {
			t.Children = append(t.Children, &Thread{Num: msgs[r.i].Num})
		}
		groups = append(groups, group{t, rows[k].sent, rows[k].i})
		k = j
	}
	slices.SortFunc(groups, func(a, b group) int { return cmp.Or(cmp.Compare(a.sent, b.sent), cmp.Compare(a.i, b.i)) })
	out := make([]*Thread, len(groups))
	for i, g := range groups {
		out[i] = g.t
	}
	return out
}

func asciiUpper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = upper(b[j])
			}
			return string(b)
		}
	}
	return s
}

// node is a container of the REFERENCES algorithm: a message (msg >= 0)
// or a dummy (msg == -1).
type node struct {
	msg      int
	parent   int
	children []int
}

// refThreader holds the containers of one THREAD=REFERENCES run.
type refThreader struct {
	msgs  []Message
	nodes []node
	byID  map[string]int
	sent  []int64 // per message
	subj  []string
	reply []bool
}

func (r *refThreader) newNode(msg int) int {
	r.nodes = append(r.nodes, node{msg: msg, parent: -1})
	return len(r.nodes) - 1
}

// get returns the container of a Message-ID, creating a dummy.
func (r *refThreader) get(id string) int {
	if n, ok := r.byID[id]; ok {
		return n
	}
	n := r.newNode(-1)
	r.byID[id] = n
	return n
}

// descends reports whether x is a or below a.
func (r *refThreader) descends(x, a int) bool {
	for ; x >= 0; x = r.nodes[x].parent {
		if x == a {
			return true
		}
	}
	return false
}

func (r *refThreader) unlink(c int) {
	p := r.nodes[c].parent
	if p < 0 {
		return
	}
	ch := r.nodes[p].children
	if i := slices.Index(ch, c); i >= 0 {
		r.nodes[p].children = slices.Delete(ch, i, i+1)
	}
	r.nodes[c].parent = -1
}

func (r *refThreader) link(p, c int) {
	r.nodes[c].parent = p
	r.nodes[p].children = append(r.nodes[p].children, c)
}

// References is THREAD=REFERENCES (RFC 5256 section 3): threads from
// Message-ID, References and In-Reply-To (steps 1-3), sorted by sent date
// (step 4), root threads with the same base subject merged (step 5),
// siblings sorted by sent date (step 6).
func References(msgs []Message) []*Thread {
	r := &refThreader{msgs: msgs, byID: make(map[string]int, len(msgs)), sent: make([]int64, len(msgs)),
		subj: make([]string, len(msgs)), reply: make([]bool, len(msgs))}
	r.nodes = make([]node, 0, len(msgs)+len(msgs)/2)
	for i := range msgs {
		r.sent[i] = msgs[i].sent().UnixNano()
		s, re := BaseSubject(msgs[i].Subject)
		r.subj[i], r.reply[i] = asciiUpper(s), re
	}
	// Step 1.
	for i := range msgs {
		m := &msgs[i]
		var me int
		if n, ok := r.byID[m.MessageID]; ok && m.MessageID != "" && r.nodes[n].msg < 0 {
			me = n
			r.nodes[n].msg = i
		} else {
			// No Message-ID, or a duplicate: a unique id of its own.
			me = r.newNode(i)
			if m.MessageID != "" && !ok {
				r.byID[m.MessageID] = me
			}
		}
		refs := m.References
		if len(refs) == 0 && len(m.InReplyTo) > 0 {
			refs = m.InReplyTo[:1]
		}
		// 1.A: link the references in order, keeping existing parents, no loops.
		for k := 0; k+1 < len(refs); k++ {
			p, c := r.get(refs[k]), r.get(refs[k+1])
			if p != c && r.nodes[c].parent < 0 && !r.descends(p, c) {
				r.link(p, c)
			}
		}
		// 1.B: the last reference becomes the parent, replacing any other.
		r.unlink(me)
		if len(refs) > 0 {
			if p := r.get(refs[len(refs)-1]); p != me && !r.descends(p, me) {
				r.link(p, me)
			}
		}
	}
	// Step 2: the root set.
	var roots []int
	for n := range r.nodes {
		if r.nodes[n].parent < 0 {
			roots = append(roots, n)
		}
	}
	// Step 3: prune dummies.
	roots = r.prune(roots, true)
	for _, n := range roots {
		r.nodes[n].parent = -1
	}
	// Step 4: sort the root set by date.
	r.sortSiblings(roots, false)
	// Step 5: merge root threads by base subject.
	roots = r.mergeSubjects(roots)
	// Step 6: sort all siblings by date, deepest first.
	r.sortSiblings(roots, true)
	out := make([]*Thread, len(roots))
	for i, n := range roots {
		out[i] = r.tree(n)
	}
	return out
}

// prune applies step 3 to a list of siblings and returns the new list.
func (r *refThreader) prune(list []int, root bool) []int {
	out := make([]int, 0, len(list))
	for _, n := range list {
		r.nodes[n].children = r.prune(r.nodes[n].children, false)
		if r.nodes[n].msg >= 0 {
			out = append(out, n)
			continue
		}
		ch := r.nodes[n].children
		switch {
		case len(ch) == 0:
			// 3.A: a dummy without children goes.
		case !root || len(ch) == 1:
			// 3.B: promote the children (at the root only a single one).
			for _, c := range ch {
				r.nodes[c].parent = r.nodes[n].parent
			}
			out = append(out, ch...)
		default:
			out = append(out, n)
		}
	}
	return out
}

// key is a container's sort key: its message's sent date and position, or
// a dummy's first child's.
func (r *refThreader) key(n int) (int64, int) {
	for r.nodes[n].msg < 0 {
		if len(r.nodes[n].children) == 0 {
			return 0, -1
		}
		n = r.nodes[n].children[0]
	}
	m := r.nodes[n].msg
	return r.sent[m], m
}

// sortSiblings sorts list by date; deep also sorts every level below first.
// Dummies' children are always sorted first, since a dummy sorts by them.
func (r *refThreader) sortSiblings(list []int, deep bool) {
	for _, n := range list {
		if deep || r.nodes[n].msg < 0 {
			r.sortSiblings(r.nodes[n].children, deep)
		}
	}
	slices.SortFunc(list, func(a, b int) int {
		sa, ia := r.key(a)
		sb, ib := r.key(b)
		return cmp.Or(cmp.Compare(sa, sb), cmp.Compare(ia, ib))
	})
}

// subject is a root thread's subject and reply flag (step 5.B.i).
func (r *refThreader) subject(n int) (string, bool) {
	if r.nodes[n].msg < 0 {
		if len(r.nodes[n].children) == 0 {
			return "", false
		}
		n = r.nodes[n].children[0]
	}
	m := r.nodes[n].msg
	return r.subj[m], r.reply[m]
}

// mergeSubjects is step 5 over the sorted root set.
func (r *refThreader) mergeSubjects(roots []int) []int {
	table := map[string]int{}
	for _, n := range roots {
		s, reply := r.subject(n)
		if s == "" {
			continue
		}
		t, ok := table[s]
		if !ok {
			table[s] = n
			continue
		}
		_, treply := r.subject(t)
		if r.nodes[t].msg >= 0 && (r.nodes[n].msg < 0 || (treply && !reply)) {
			table[s] = n
		}
	}
	gone := map[int]bool{}
	var added []int
	for _, n := range roots {
		if gone[n] {
			continue
		}
		s, reply := r.subject(n)
		if s == "" {
			continue
		}
		t := table[s]
		if t == n {
			continue
		}
		_, treply := r.subject(t)
		tDummy, nDummy := r.nodes[t].msg < 0, r.nodes[n].msg < 0
		switch {
		case tDummy && nDummy:
			for _, c := range r.nodes[n].children {
				r.link(t, c)
			}
			r.nodes[n].children = nil
			gone[n] = true
		case tDummy && !nDummy, reply && !treply:
			r.link(t, n)
			gone[n] = true
		default:
			d := r.newNode(-1)
			r.link(d, t)
			r.link(d, n)
			gone[t], gone[n] = true, true
			table[s] = d
			added = append(added, d)
		}
	}
	out := make([]int, 0, len(roots)+len(added))
	for _, n := range append(roots, added...) {
		if !gone[n] && r.nodes[n].parent < 0 {
			out = append(out, n)
		}
	}
	return out
}

func (r *refThreader) tree(n int) *Thread {
	t := &Thread{}
	if m := r.nodes[n].msg; m >= 0 {
		t.Num = r.msgs[m].Num
	}
	if ch := r.nodes[n].children; len(ch) > 0 {
		t.Children = make([]*Thread, len(ch))
		for i, c := range ch {
			t.Children[i] = r.tree(c)
		}
	}
	return t
}
