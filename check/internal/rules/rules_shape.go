package rules

import (
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message"
)

// Rules of a message's shape that do not depend on the words of a spam
// era: a subject written to the recipient's address, header words encoded that need no encoding, many recipients
// in the open, a percentage in the subject. None is about a language, a script or a charset (an encoded
// word is looked at only for whether its bytes needed encoding).
const (
	SubjToName     = "SUBJECT_HAS_TO_NAME"  // the recipient's local part (4+ letters) in the subject, no mailing list
	EncodedASCII   = "HEADER_ENCODED_ASCII" // an encoded-word in Subject or From that is plain ASCII text
	ManyRcpts      = "TO_MANY_RECIPIENTS"   // 10 or more addresses in To and Cc, no mailing list
	SubjPercentOff = "SUBJECT_PERCENT"      // a percentage in the subject (80%)
)

// shapeHeader looks at the top-level header (subj decoded, to and cc as
// written).
func (r *result) shapeHeader(h *message.Header, subj, to, cc string) {
	ls := strings.ToLower(subj)
	if a := parseAddr(to); a != nil && !r.listMail {
		local, _, _ := strings.Cut(strings.ToLower(a.Address), "@")
		if letters := countLetters(local); letters >= 4 && letters == len(local) && strings.Contains(ls, local) {
			r.hit(SubjToName)
		}
	}
	if encodedASCII(h.Get("Subject")) || encodedASCII(h.Get("From")) {
		r.hit(EncodedASCII)
	}
	if !r.listMail && strings.Count(to, "@")+strings.Count(cc, "@") >= 10 {
		r.hit(ManyRcpts)
	}
	if percent(subj) {
		r.hit(SubjPercentOff)
	}
}

// encodedASCII reports a raw header value with RFC 2047 encoded-words
// whose decoded bytes, all of them (an encoder splits a long text into
// several words), are printable ASCII: nothing in it needed encoding.
func encodedASCII(v string) bool {
	if !strings.Contains(v, "=?") {
		return false
	}
	d, err := asciiWords.DecodeHeader(v)
	if err != nil || d == v || d == "" {
		return false
	}
	return isASCII(d) && !strings.ContainsAny(d, "\x00\x1b\r\n")
}

// asciiWords decodes encoded-words leaving their bytes as they are (any
// charset): the question is only whether those bytes needed encoding.
var asciiWords = &mime.WordDecoder{CharsetReader: func(_ string, in io.Reader) (io.Reader, error) { return in, nil }}

func countLetters(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isWordByte(s[i]) {
			n++
		}
	}
	return n
}

// percent reports a number followed by "%" (a discount, a rate).
func percent(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] == '%' && s[i-1] >= '0' && s[i-1] <= '9' {
			return true
		}
	}
	return false
}
