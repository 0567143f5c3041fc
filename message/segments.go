package message

import "sort"

// Range is a half-open byte range [Start, End) of a raw message.
type Range struct {
	Start, End int64
}

// Segments cuts raw into contiguous ranges that, concatenated, rebuild raw
// byte for byte. The encoded body of every attachment of at least minSize
// bytes is a range of its own, so the same attachment sent in different
// messages (same encoding and line breaks) is stored as the same blob.
// If p is nil, raw is parsed. Empty ranges are omitted.
func Segments(raw []byte, p *Parsed, minSize int) []Range {
	if p == nil {
		p = Parse(raw)
	}
	n := int64(len(raw))
	var cuts []Range
	for _, a := range p.Attachments {
		part := a.Part
		if part == nil || part.BodyStart < 0 || part.BodyEnd > n || part.BodyStart >= part.BodyEnd {
			continue
		}
		if part.BodyEnd-part.BodyStart < int64(minSize) {
			continue
		}
		cuts = append(cuts, Range{part.BodyStart, part.BodyEnd})
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].Start < cuts[j].Start })
	var out []Range
	pos := int64(0)
	for _, c := range cuts {
		if c.Start < pos {
			continue // overlapping (cannot happen with a well-formed tree)
		}
		if c.Start > pos {
			out = append(out, Range{pos, c.Start})
		}
		out = append(out, c)
		pos = c.End
	}
	if pos < n {
		out = append(out, Range{pos, n})
	}
	return out
}
