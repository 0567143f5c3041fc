package sortthread

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuMS reports the process's CPU milliseconds per op, next to wall time
// that a loaded machine inflates.
func cpuMS(b *testing.B, f func()) {
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	for b.Loop() {
		f()
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	cpu := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
}

func TestBaseSubject(t *testing.T) {
	for _, c := range []struct {
		in, want string
		reply    bool
	}{
		{"Hello", "Hello", false},
		{"Re: Hello", "Hello", true},
		{"RE:  re: Re[2]: Hello", "Hello", true}, // subj-refwd allows a blob before ":"
		{"Re [2]: Hello", "Hello", true},
		{"Fwd: Hello (fwd)", "Hello", true},
		{"[list] Re: Hello", "Hello", true},
		{"[list] Hello", "Hello", false},
		{"[xyz]", "[xyz]", false},
		{"[Fwd: Re: Hello]", "Hello", true},
		{"Re: [FWD: c]", "c", true},
		{"[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "b", true},
		{"  Hello \t  world  ", "Hello world", false},
		{"Real estate", "Real estate", false},
		{"", "", false},
		{"Re:", "", true},
	} {
		got, reply := BaseSubject(c.in)
		if got != c.want || reply != c.reply {
			t.Errorf("BaseSubject(%q): got %q, %v, want %q, %v", c.in, got, reply, c.want, c.reply)
		}
	}
}

func day(d int) time.Time { return time.Date(2026, 1, d, 12, 0, 0, 0, time.UTC) }

// TestReplyChain threads a conversation: replies nest under what they
// answer, a reply whose parent is missing still joins by References, an
// In-Reply-To alone links, and an unrelated message stays apart.
func TestReplyChain(t *testing.T) {
	msgs := []Message{
		{Num: 1, Date: day(1), Subject: "Plan", MessageID: "a@x"},
		{Num: 2, Date: day(2), Subject: "Re: Plan", MessageID: "b@x", References: []string{"a@x"}},
		{Num: 3, Date: day(3), Subject: "Re: Plan", MessageID: "c@x", References: []string{"a@x", "b@x"}},
		{Num: 4, Date: day(4), Subject: "Other", MessageID: "d@x"},
		{Num: 5, Date: day(5), Subject: "Re: Plan", MessageID: "e@x", InReplyTo: []string{"a@x"}},
		{Num: 6, Date: day(6), Subject: "Re: Plan", MessageID: "f@x", References: []string{"a@x", "gone@x", "c@x"}},
	}
	if got, want := Format(References(msgs)), "(1 (2 3 6)(5))(4)"; got != want {
		t.Errorf("References: got %s, want %s", got, want)
	}
	if got, want := Format(OrderedSubject(msgs)), "(1 (2)(3)(5)(6))(4)"; got != want {
		t.Errorf("OrderedSubject: got %s, want %s", got, want)
	}
	// The parent is not in the set: its replies are siblings under a dummy,
	// and a single orphan is promoted to the root.
	orphans := []Message{
		{Num: 1, Date: day(1), Subject: "Re: x", MessageID: "b@x", References: []string{"gone@x"}},
		{Num: 2, Date: day(2), Subject: "Re: x", MessageID: "c@x", References: []string{"gone@x"}},
		{Num: 3, Date: day(3), Subject: "y", MessageID: "d@x", References: []string{"gone2@x"}},
	}
	if got, want := Format(References(orphans)), "((1)(2))(3)"; got != want {
		t.Errorf("References with a missing parent: got %s, want %s", got, want)
	}
	// Loops and self references do not hang or drop messages.
	loops := []Message{
		{Num: 1, Date: day(1), Subject: "l", MessageID: "a@x", References: []string{"b@x", "a@x"}},
		{Num: 2, Date: day(2), Subject: "m", MessageID: "b@x", References: []string{"a@x"}},
		{Num: 3, Date: day(3), Subject: "n", MessageID: "a@x"}, // duplicate id
	}
	if got := count(References(loops)); got != 3 {
		t.Errorf("References with loops: %d messages in the answer, want 3", got)
	}
}

// TestRFCFormat checks the response form of RFC 5256 section 4's example.
func TestRFCFormat(t *testing.T) {
	m := func(n uint32, ch ...*Thread) *Thread { return &Thread{Num: n, Children: ch} }
	ts := []*Thread{m(2), m(3, m(6, m(4, m(23)), m(44, m(7, m(96)))))}
	if got, want := Format(ts), "(2)(3 6 (4 23)(44 7 96))"; got != want {
		t.Errorf("Format: got %s, want %s", got, want)
	}
	if got, want := Format([]*Thread{m(0, m(1), m(2))}), "((1)(2))"; got != want {
		t.Errorf("Format of a dummy root: got %s, want %s", got, want)
	}
}

func TestSortKeys(t *testing.T) {
	msgs := []Message{
		{Num: 1, Arrival: day(3), Size: 10, Subject: "b", From: []Address{{Address: "Zed@x"}}},
		{Num: 2, Arrival: day(1), Size: 30, Subject: "Re: a", From: []Address{{Name: "Amy", Address: "y@x"}}},
		{Num: 3, Arrival: day(2), Size: 20, Subject: "A", From: []Address{{Address: "bob@x"}}},
	}
	for _, c := range []struct {
		atoms []string
		want  []uint32
	}{
		{[]string{"ARRIVAL"}, []uint32{2, 3, 1}},
		{[]string{"reverse", "size"}, []uint32{2, 3, 1}},
		{[]string{"SUBJECT"}, []uint32{2, 3, 1}}, // "a" = "A": tie by sequence
		{[]string{"SUBJECT", "REVERSE", "ARRIVAL"}, []uint32{3, 2, 1}},
		{[]string{"FROM"}, []uint32{3, 2, 1}},
		{[]string{"DISPLAYFROM"}, []uint32{2, 3, 1}},
		{[]string{"DATE"}, []uint32{2, 3, 1}}, // no Date: the internal date
	} {
		crit, err := ParseCriteria(c.atoms)
		if err != nil {
			t.Fatal(err)
		}
		if got := Sort(msgs, crit); !slices.Equal(got, c.want) {
			t.Errorf("SORT %v: got %v, want %v", c.atoms, got, c.want)
		}
	}
	for _, bad := range [][]string{nil, {"REVERSE"}, {"REVERSE", "REVERSE", "DATE"}, {"COLOUR"}} {
		if _, err := ParseCriteria(bad); err == nil {
			t.Errorf("ParseCriteria(%v): got no error", bad)
		}
	}
}

func count(ts []*Thread) int {
	n := 0
	for _, t := range ts {
		if t.Num != 0 {
			n++
		}
		n += count(t.Children)
	}
	return n
}

func nums(ts []*Thread, out map[uint32]int) {
	for _, t := range ts {
		if t.Num != 0 {
			out[t.Num]++
		}
		nums(t.Children, out)
	}
}

// FuzzThread builds messages from arbitrary ids, references and subjects:
// every message appears exactly once in each THREAD answer, and SORT is a
// permutation, whatever loops or duplicates the input holds.
func FuzzThread(f *testing.F) {
	f.Add("a b c", "a|a b|b c", "Re: x|[fwd: x]|x")
	f.Add("a a a", "b|a|", "|||")
	f.Add("x y", "y x|x y", "Fwd: Re: [l] q (fwd)|q")
	f.Fuzz(func(t *testing.T, ids, refs, subjects string) {
		idl, refl, subl := strings.Fields(ids), strings.Split(refs, "|"), strings.Split(subjects, "|")
		n := min(max(len(idl), len(refl), len(subl)), 200)
		msgs := make([]Message, n)
		for i := range msgs {
			m := &msgs[i]
			m.Num = uint32(i + 1)
			m.Date = day(1).Add(time.Duration(i%3) * time.Hour)
			if i < len(idl) {
				m.MessageID = idl[i]
			}
			if i < len(refl) {
				m.References = strings.Fields(refl[i])
			}
			if i < len(subl) {
				m.Subject = subl[i]
			}
		}
		for name, ts := range map[string][]*Thread{"references": References(msgs), "orderedsubject": OrderedSubject(msgs)} {
			seen := map[uint32]int{}
			nums(ts, seen)
			if len(seen) != n {
				t.Fatalf("%s: %d messages in the answer, want %d (%s)", name, len(seen), n, Format(ts))
			}
			for k, v := range seen {
				if v != 1 {
					t.Fatalf("%s: message %d appears %d times", name, k, v)
				}
			}
		}
		got := Sort(msgs, []Criterion{{Key: Subject}, {Key: Date, Reverse: true}})
		if len(got) != n {
			t.Fatalf("Sort: %d results, want %d", len(got), n)
		}
		for _, s := range subl {
			b, _ := BaseSubject(s)
			if again, _ := BaseSubject(b); again != b && !strings.HasPrefix(b, "[") {
				t.Errorf("BaseSubject not idempotent: %q -> %q -> %q", s, b, again)
			}
		}
	})
}

// corpus makes n messages in threads of about eight with replies and
// forwards, as a big folder has.
func corpus(n int) []Message {
	r := rand.New(rand.NewPCG(1, 2))
	msgs := make([]Message, n)
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range msgs {
		m := &msgs[i]
		m.Num = uint32(i + 1)
		m.Arrival = base.Add(time.Duration(i) * time.Minute)
		m.Date = m.Arrival.Add(-time.Duration(r.IntN(3600)) * time.Second)
		m.Size = int64(1000 + r.IntN(100000))
		m.MessageID = fmt.Sprintf("%d@bench", i)
		thread := i / 8
		m.Subject = fmt.Sprintf("Subject of thread %d", thread)
		if i%8 != 0 {
			m.Subject = "Re: " + m.Subject
			parent := thread*8 + r.IntN(i%8)
			m.References = []string{fmt.Sprintf("%d@bench", thread*8), fmt.Sprintf("%d@bench", parent)}
		}
		m.From = []Address{{Name: fmt.Sprintf("Person %d", r.IntN(500)), Address: fmt.Sprintf("p%d@example.com", r.IntN(500))}}
		m.To = []Address{{Address: fmt.Sprintf("q%d@example.com", r.IntN(500))}}
	}
	return msgs
}

func BenchmarkSort100k(b *testing.B) {
	msgs := corpus(100_000)
	for _, c := range []struct {
		name string
		crit []Criterion
	}{{"date", []Criterion{{Key: Date}}}, {"subject,reverse-date", []Criterion{{Key: Subject}, {Key: Date, Reverse: true}}},
		{"from", []Criterion{{Key: From}}}, {"displayfrom", []Criterion{{Key: DisplayFrom}}}} {
		b.Run(c.name, func(b *testing.B) { cpuMS(b, func() { Sort(msgs, c.crit) }) })
	}
}

func BenchmarkThread100k(b *testing.B) {
	msgs := corpus(100_000)
	b.Run("references", func(b *testing.B) { cpuMS(b, func() { References(msgs) }) })
	b.Run("orderedsubject", func(b *testing.B) { cpuMS(b, func() { OrderedSubject(msgs) }) })
	ts := References(msgs)
	b.Run("format", func(b *testing.B) { cpuMS(b, func() { Format(ts) }) })
}
