package imap

import (
	"bufio"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/imap/internal/compress"
)

// compressCaps is offered until compression is on (RFC 4978 section 3).
const compressCaps = "COMPRESS=DEFLATE"

// errCompressionActive answers a second COMPRESS (RFC 4978 section 3).
var errCompressionActive = imapErr(imap.ResponseCode("COMPRESSIONACTIVE"), "DEFLATE is already active")

// cmdCompress: COMPRESS DEFLATE (RFC 4978). The tagged OK goes out
// uncompressed; every byte after it, both ways, is raw DEFLATE. COMPRESS is
// a barrier (session.go): the reader has not parsed past it, so the bytes
// the client pipelined after the command are the start of its compressed
// stream and are handed to the inflater. COMPRESS is only allowed once
// logged in, so it always comes after any STARTTLS.
func cmdCompress(s *session, c *command, p *parser) error {
	alg := p.atom()
	if p.end(); p.err != nil {
		return p.err
	}
	if !strings.EqualFold(alg, "DEFLATE") {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Unknown compression algorithm"}
	}
	if s.compressed {
		return errCompressionActive
	}
	s.tagged(c.tag, okCode("", "DEFLATE active"))
	if s.w.failed() != nil {
		return errAlreadyAnswered
	}
	buffered, _ := s.r.br.Peek(s.r.br.Buffered())
	cc := compress.New(s.conn, buffered)
	s.conn = cc
	s.r.conn = cc
	s.r.br = bufio.NewReaderSize(cc, 4096)
	s.w.reset(cc)
	s.compressed = true
	s.log.Debug("compression on")
	return errAlreadyAnswered
}
