package sieve

import (
	"regexp"
	"slices"
	"strings"
)

// Supported lists the capability strings this package implements, as
// advertised by ManageSieve's SIEVE capability (RFC 5804 section 1.7).
var Supported = []string{
	"fileinto", "reject", "ereject", "envelope", "encoded-character", "copy", "imap4flags", "body",
	"variables", "subaddress", "relational", "date", "regex", "vacation", "mailbox",
	"comparator-i;ascii-numeric",
}

// args are a command's or test's arguments sorted out: tags (with their
// values) and positional arguments.
type args struct {
	tags       map[string]Arg // tag -> value (Arg{} when the tag takes none)
	pos        []Arg
	comparator string
	match      string // is, contains, matches, regex, count, value
	relation   string // gt ge lt le eq ne for count/value
	addrPart   string // all localpart domain user detail
}

// tagSpec says which tags a command or test takes and whether each has a value.
type tagSpec map[string]bool // tag -> takes a value argument

var (
	matchTags   = tagSpec{"is": false, "contains": false, "matches": false, "regex": false, "count": true, "value": true, "comparator": true}
	addressTags = tagSpec{"all": false, "localpart": false, "domain": false, "user": false, "detail": false}
)

func merge(specs ...tagSpec) tagSpec {
	out := tagSpec{}
	for _, s := range specs {
		for k, v := range s {
			out[k] = v
		}
	}
	return out
}

// extensionOf names the extension a tag needs.
var tagExtension = map[string]string{
	"regex": "regex", "count": "relational", "value": "relational", "user": "subaddress", "detail": "subaddress",
	"copy": "copy", "create": "mailbox", "flags": "imap4flags",
}

// sortArgs splits raw arguments by spec and checks that each tag is known,
// appears once and has its value.
func sortArgs(s *Script, name string, raw []Arg, spec tagSpec) (*args, error) {
	a := &args{tags: map[string]Arg{}}
	for i := 0; i < len(raw); i++ {
		r := raw[i]
		if !r.isTag() {
			a.pos = append(a.pos, r)
			continue
		}
		if len(a.pos) > 0 {
			return nil, r.Pos.errorf("%s: tag :%s must come before the positional arguments", name, r.Tag)
		}
		takes, ok := spec[r.Tag]
		if !ok {
			return nil, r.Pos.errorf("%s: unknown tag :%s", name, r.Tag)
		}
		if ext, ok := tagExtension[r.Tag]; ok && s != nil && !s.Extensions[ext] {
			return nil, r.Pos.errorf("%s: tag :%s needs require %q", name, r.Tag, ext)
		}
		if _, dup := a.tags[r.Tag]; dup {
			return nil, r.Pos.errorf("%s: tag :%s given twice", name, r.Tag)
		}
		val := Arg{}
		if takes {
			if i+1 >= len(raw) || raw[i+1].isTag() {
				return nil, r.Pos.errorf("%s: tag :%s needs a value", name, r.Tag)
			}
			i++
			val = raw[i]
		}
		a.tags[r.Tag] = val
		if _, ok := matchTags[r.Tag]; ok && r.Tag != "comparator" {
			if a.match != "" {
				return nil, r.Pos.errorf("%s: only one match type may be given", name)
			}
			a.match = r.Tag
			if takes {
				if !val.isStrings() || len(val.Strings) != 1 {
					return nil, val.Pos.errorf("%s: :%s needs a relation string", name, r.Tag)
				}
				a.relation = strings.ToLower(val.Strings[0])
				if !slices.Contains([]string{"gt", "ge", "lt", "le", "eq", "ne"}, a.relation) {
					return nil, val.Pos.errorf("%s: unknown relation %q (want gt, ge, lt, le, eq or ne)", name, val.Strings[0])
				}
			}
		}
		if _, ok := addressTags[r.Tag]; ok {
			if a.addrPart != "" {
				return nil, r.Pos.errorf("%s: only one address part may be given", name)
			}
			a.addrPart = r.Tag
		}
		if r.Tag == "comparator" {
			if !val.isStrings() || len(val.Strings) != 1 {
				return nil, val.Pos.errorf("%s: :comparator needs a string", name)
			}
			a.comparator = strings.ToLower(val.Strings[0])
			switch a.comparator {
			case "i;ascii-casemap", "i;octet":
			case "i;ascii-numeric":
				if s != nil && !s.Extensions["comparator-i;ascii-numeric"] {
					return nil, val.Pos.errorf("%s: comparator i;ascii-numeric needs require \"comparator-i;ascii-numeric\"", name)
				}
			default:
				return nil, val.Pos.errorf("%s: unknown comparator %q", name, val.Strings[0])
			}
		}
	}
	if a.match == "" {
		a.match = "is"
	}
	if a.comparator == "" {
		a.comparator = "i;ascii-casemap"
	}
	if a.addrPart == "" {
		a.addrPart = "all"
	}
	return a, nil
}

// positional checks the positional arguments against kinds: 's' a string,
// 'l' a string list (or a single string), 'n' a number.
func positional(name string, p Pos, a []Arg, kinds string) error {
	if len(a) != len(kinds) {
		return p.errorf("%s: expected %d positional argument(s), found %d", name, len(kinds), len(a))
	}
	for i, k := range kinds {
		switch k {
		case 's':
			if !a[i].isStrings() || a[i].List {
				return a[i].Pos.errorf("%s: argument %d must be a string", name, i+1)
			}
		case 'l':
			if !a[i].isStrings() {
				return a[i].Pos.errorf("%s: argument %d must be a string list", name, i+1)
			}
		case 'n':
			if !a[i].IsNum {
				return a[i].Pos.errorf("%s: argument %d must be a number", name, i+1)
			}
		}
	}
	return nil
}

// commandSpec describes a command: its extension, tags and positional kinds.
type commandSpec struct {
	ext   string
	tags  tagSpec
	kinds string
	test  bool // takes a test (if, elsif)
	block bool // takes a block
}

var commandSpecs = map[string]commandSpec{
	"require":    {kinds: "l"},
	"if":         {test: true, block: true},
	"elsif":      {test: true, block: true},
	"else":       {block: true},
	"stop":       {},
	"keep":       {tags: tagSpec{"flags": true}},
	"discard":    {},
	"fileinto":   {ext: "fileinto", tags: tagSpec{"copy": false, "create": false, "flags": true}, kinds: "s"},
	"redirect":   {tags: tagSpec{"copy": false}, kinds: "s"},
	"reject":     {ext: "reject", kinds: "s"},
	"ereject":    {ext: "ereject", kinds: "s"},
	"setflag":    {ext: "imap4flags"},
	"addflag":    {ext: "imap4flags"},
	"removeflag": {ext: "imap4flags"},
	"set":        {ext: "variables", tags: tagSpec{"lower": false, "upper": false, "lowerfirst": false, "upperfirst": false, "quotewildcard": false, "quoteregex": false, "length": false}, kinds: "ss"},
	"vacation":   {ext: "vacation", tags: tagSpec{"days": true, "subject": true, "from": true, "addresses": true, "mime": false, "handle": true}, kinds: "s"},
}

type testSpec struct {
	ext   string
	tags  tagSpec
	kinds string
}

var testSpecs = map[string]testSpec{
	"address":     {tags: merge(matchTags, addressTags), kinds: "ll"},
	"envelope":    {ext: "envelope", tags: merge(matchTags, addressTags), kinds: "ll"},
	"header":      {tags: matchTags, kinds: "ll"},
	"exists":      {kinds: "l"},
	"size":        {tags: tagSpec{"over": false, "under": false}, kinds: "n"},
	"true":        {},
	"false":       {},
	"not":         {},
	"anyof":       {},
	"allof":       {},
	"body":        {ext: "body", tags: merge(matchTags, tagSpec{"raw": false, "content": true, "text": false}), kinds: "l"},
	"date":        {ext: "date", tags: merge(matchTags, tagSpec{"zone": true, "originalzone": false}), kinds: "ssl"},
	"currentdate": {ext: "date", tags: merge(matchTags, tagSpec{"zone": true}), kinds: "sl"},
	"string":      {ext: "variables", tags: matchTags, kinds: "ll"},
	"hasflag":     {ext: "imap4flags", tags: matchTags},
}

var dateParts = []string{"year", "month", "day", "date", "julian", "hour", "minute", "second", "time", "iso8601", "std11", "zone", "weekday"}

// validate checks every command and test, with require honoured in order
// (RFC 5228 section 3.2: require only at the start).
func validate(s *Script) error {
	return validateBlock(s, s.Commands, true)
}

func validateBlock(s *Script, cmds []*Command, top bool) error {
	requireOK := top
	prev := ""
	for _, c := range cmds {
		spec, ok := commandSpecs[c.Name]
		if !ok {
			return c.Pos.errorf("unknown command %q", c.Name)
		}
		if c.Name == "require" {
			if !requireOK {
				return c.Pos.errorf("require must come before any other command")
			}
		} else {
			requireOK = false
		}
		if spec.ext != "" && !s.Extensions[spec.ext] {
			return c.Pos.errorf("%s needs require %q", c.Name, spec.ext)
		}
		if (c.Name == "elsif" || c.Name == "else") && prev != "if" && prev != "elsif" {
			return c.Pos.errorf("%s without a preceding if", c.Name)
		}
		prev = c.Name
		if spec.test != (c.Test != nil) {
			if spec.test {
				return c.Pos.errorf("%s needs a test", c.Name)
			}
			return c.Test.Pos.errorf("expected \";\" after %s, found %q", c.Name, c.Test.Name)
		}
		if spec.block != (c.Block != nil) {
			if spec.block {
				return c.Pos.errorf("%s needs a block", c.Name)
			}
			return c.Pos.errorf("%s takes no block (missing \";\"?)", c.Name)
		}
		a, err := sortArgs(s, c.Name, c.Args, spec.tags)
		if err != nil {
			return err
		}
		c.sorted = a
		switch c.Name {
		case "setflag", "addflag", "removeflag":
			// [variablename] list-of-flags
			if len(a.pos) == 2 {
				err = positional(c.Name, c.Pos, a.pos, "sl")
			} else {
				err = positional(c.Name, c.Pos, a.pos, "l")
			}
		default:
			err = positional(c.Name, c.Pos, a.pos, spec.kinds)
		}
		if err != nil {
			return err
		}
		switch c.Name {
		case "require":
			for _, e := range a.pos[0].Strings {
				if !slices.Contains(Supported, strings.ToLower(e)) {
					return a.pos[0].Pos.errorf("unsupported extension %q", e)
				}
				s.Extensions[strings.ToLower(e)] = true
			}
		case "vacation":
			if d, ok := a.tags["days"]; ok && !d.IsNum {
				return d.Pos.errorf("vacation: :days needs a number")
			}
			for _, t := range []string{"subject", "from", "handle"} {
				if v, ok := a.tags[t]; ok && (!v.isStrings() || v.List) {
					return v.Pos.errorf("vacation: :%s needs a string", t)
				}
			}
			if v, ok := a.tags["addresses"]; ok && !v.isStrings() {
				return v.Pos.errorf("vacation: :addresses needs a string list")
			}
		case "set":
			name := a.pos[0].Strings[0]
			if !validVarName(name) {
				return a.pos[0].Pos.errorf("set: invalid variable name %q", name)
			}
		case "fileinto", "keep":
			if v, ok := a.tags["flags"]; ok && !v.isStrings() {
				return v.Pos.errorf("%s: :flags needs a string list", c.Name)
			}
		}
		if c.Test != nil {
			if err := validateTest(s, c.Test); err != nil {
				return err
			}
		}
		if c.Block != nil {
			if err := validateBlock(s, c.Block, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func validVarName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(isIdentStart(c) || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func validateTest(s *Script, t *Test) error {
	spec, ok := testSpecs[t.Name]
	if !ok {
		return t.Pos.errorf("unknown test %q", t.Name)
	}
	if spec.ext != "" && !s.Extensions[spec.ext] {
		return t.Pos.errorf("test %s needs require %q", t.Name, spec.ext)
	}
	switch t.Name {
	case "not":
		if len(t.Tests) != 1 || len(t.Args) != 0 {
			return t.Pos.errorf("not takes exactly one test")
		}
	case "anyof", "allof":
		if len(t.Tests) == 0 || len(t.Args) != 0 {
			return t.Pos.errorf("%s needs a list of tests in parentheses", t.Name)
		}
	default:
		if len(t.Tests) != 0 {
			return t.Tests[0].Pos.errorf("%s takes no nested tests", t.Name)
		}
	}
	a, err := sortArgs(s, t.Name, t.Args, spec.tags)
	if err != nil {
		return err
	}
	t.sorted = a
	if t.Name == "hasflag" {
		if len(a.pos) == 2 {
			err = positional(t.Name, t.Pos, a.pos, "ll")
		} else {
			err = positional(t.Name, t.Pos, a.pos, "l")
		}
	} else {
		err = positional(t.Name, t.Pos, a.pos, spec.kinds)
	}
	if err != nil {
		return err
	}
	switch t.Name {
	case "size":
		_, over := a.tags["over"]
		_, under := a.tags["under"]
		if over == under {
			return t.Pos.errorf("size needs exactly one of :over or :under")
		}
	case "date", "currentdate":
		part := a.pos[0]
		if t.Name == "date" {
			part = a.pos[1]
		}
		if !slices.Contains(dateParts, strings.ToLower(part.Strings[0])) {
			return part.Pos.errorf("%s: unknown date part %q", t.Name, part.Strings[0])
		}
	case "envelope":
		for _, h := range a.pos[0].Strings {
			if l := strings.ToLower(h); l != "from" && l != "to" {
				return a.pos[0].Pos.errorf("envelope: unknown envelope part %q (want \"from\" or \"to\")", h)
			}
		}
	}
	if a.match == "regex" {
		keys := a.pos[len(a.pos)-1]
		for _, k := range keys.Strings {
			if strings.Contains(k, "${") && s.Extensions["variables"] {
				continue // checked when expanded
			}
			if _, err := compileRegex(k, a.comparator); err != nil {
				return keys.Pos.errorf("%s: bad regular expression %q: %v", t.Name, k, err)
			}
		}
	}
	for _, sub := range t.Tests {
		if err := validateTest(s, sub); err != nil {
			return err
		}
	}
	return nil
}

func compileRegex(expr, comparator string) (*regexp.Regexp, error) {
	if comparator == "i;ascii-casemap" {
		expr = "(?i)" + expr
	}
	return regexp.Compile(expr)
}
