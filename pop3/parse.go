package pop3

import (
	"errors"
	"strings"
)

// maxArgs bounds the arguments of a command; no POP3 command takes more than two.
const maxArgs = 4

// command is a parsed command line (RFC 1939 section 3, RFC 2449 section 3).
type command struct {
	name string   // keyword, upper case
	args []string // space-separated arguments
	rest string   // everything after the keyword and one space, verbatim (PASS)
}

var (
	errEmptyCommand = errors.New("empty command")
	errBadKeyword   = errors.New("bad keyword")
	errBadCharacter = errors.New("control character in command")
	errTooManyArgs  = errors.New("too many arguments")
)

// parseCommand parses a command line without its CRLF. Keywords are three
// or four ASCII letters, case-insensitive; arguments are separated by single
// spaces, extra spaces are tolerated. Control characters are refused.
func parseCommand(line []byte) (command, error) {
	for _, b := range line {
		if b < 0x20 && b != '\t' || b == 0x7f {
			return command{}, errBadCharacter
		}
	}
	s := string(line)
	if strings.TrimSpace(s) == "" {
		return command{}, errEmptyCommand
	}
	kw, rest, _ := strings.Cut(s, " ")
	if len(kw) < 3 || len(kw) > 4 {
		return command{}, errBadKeyword
	}
	for i := 0; i < len(kw); i++ {
		c := kw[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return command{}, errBadKeyword
		}
	}
	cmd := command{name: strings.ToUpper(kw), rest: rest}
	cmd.args = strings.Fields(rest)
	if len(cmd.args) > maxArgs {
		return command{}, errTooManyArgs
	}
	return cmd, nil
}

// errBadNumber is a message number or line count that is not a plain decimal.
var errBadNumber = errors.New("bad number")

// parseNumber parses a non-negative decimal argument (no sign, at most 9
// digits, so it always fits an int).
func parseNumber(s string) (int, error) {
	if s == "" || len(s) > 9 {
		return 0, errBadNumber
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errBadNumber
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}
