package imap

import (
	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/message/structure"
)

// structChunk is how many messages one FETCH step loads the structures
// of: responses stream chunk by chunk, memory stays bounded.
const structChunk = 512

// structOnly reports whether every item is answered by the view or the
// stored structure (ENVELOPE, BODY, BODYSTRUCTURE): then no row and no
// message byte is read.
func (r *fetchReq) structOnly() bool {
	for _, it := range r.items {
		switch it.kind {
		case fiUID, fiFlags, fiInternalDate, fiSize, fiEnvelope, fiBody, fiBodyStructure:
		default:
			return false
		}
	}
	return true
}

func (r *fetchReq) needsStruct() bool {
	return r.has[fiEnvelope] || r.has[fiBody] || r.has[fiBodyStructure]
}

// loadStructures returns the stored structures of ms (messages of the
// selected mailbox, in UID order) by message id: one query per run of
// consecutive messages, or one over the whole span when the set is
// scattered (as load does).
func (s *session) loadStructures(ms []core.Message) (map[int64]*structure.Part, error) {
	v := s.sel
	type run struct{ a, b uint32 }
	var runs []run
	last := -2
	for _, m := range ms {
		i := v.index(m.UID)
		if n := len(runs); n > 0 && i == last+1 {
			runs[n-1].b = m.UID
		} else {
			runs = append(runs, run{m.UID, m.UID})
		}
		last = i
	}
	if len(runs) > maxRuns {
		runs = []run{{ms[0].UID, ms[len(ms)-1].UID}}
	}
	out := make(map[int64]*structure.Part, len(ms))
	for _, r := range runs {
		sts, err := s.srv.opts.Core.MessageStructures(s.ctx, s.user.ID, v.mb.ID, r.a, r.b)
		if err != nil {
			return nil, err
		}
		for _, st := range sts {
			out[st.ID] = st.Root
		}
	}
	return out, nil
}
