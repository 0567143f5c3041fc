package message

import (
	"strconv"
	"strings"
)

// FindPart returns the part with IMAP section number path ("" is the root,
// "1.2" the second child of the first child, RFC 3501 section 6.4.5), or nil.
// Parts of an embedded message/rfc822 are numbered under that part.
func FindPart(root *Part, path string) *Part {
	p := root
	if path == "" || p == nil {
		return p
	}
	for _, s := range strings.Split(path, ".") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > len(p.Children) {
			return nil
		}
		p = p.Children[n-1]
	}
	return p
}
