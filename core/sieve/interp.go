package sieve

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrLimit is returned by Run when a script exceeds its Limits or its
// context ends; the caller should keep the message (RFC 5228 section 2.10.6).
var ErrLimit = errors.New("sieve: script exceeded its limits")

// Message is what tests read of the message being delivered.
type Message interface {
	// Header returns the values of every field with that name (case-insensitive),
	// unfolded and with RFC 2047 encoded words decoded, in order.
	Header(name string) []string
	// Addresses returns the addresses ("local@domain") found in every field with that name.
	Addresses(name string) []string
	// Size is the message size in octets.
	Size() int64
	// Body returns the strings the body test matches (RFC 5173): the raw
	// undecoded body when raw, else the decoded content of the parts whose
	// type matches one of types ("text", "text/html", "" for any), each part
	// once.
	Body(raw bool, types []string) []string
}

// Envelope is the SMTP envelope seen by the envelope test (RFC 5228 section 5.4).
type Envelope struct {
	From string // reverse-path, "" for the null sender
	To   string // the recipient as given in RCPT TO (with its +detail)
}

// Limits bound one run. Zero fields take the defaults.
type Limits struct {
	MaxSteps     int // commands and tests evaluated; default 5,000
	MaxActions   int // actions taken; default 64
	MaxRedirects int // redirect actions; default 4
	MaxVarSize   int // bytes per variable value; default 4,096 (RFC 5229 section 6 asks for at least 4,000)
	MaxVars      int // distinct variables; default 128
}

func (l *Limits) setDefaults() {
	if l.MaxSteps <= 0 {
		l.MaxSteps = 5000
	}
	if l.MaxActions <= 0 {
		l.MaxActions = 64
	}
	if l.MaxRedirects <= 0 {
		l.MaxRedirects = 4
	}
	if l.MaxVarSize <= 0 {
		l.MaxVarSize = 4096
	}
	if l.MaxVars <= 0 {
		l.MaxVars = 128
	}
}

// Options configure Run.
type Options struct {
	Limits    Limits
	Separator string         // subaddress separator; default "+"
	Now       time.Time      // currentdate; default time.Now()
	Zone      *time.Location // default zone of date tests; default UTC
}

// ActionKind names an action.
type ActionKind int

// Actions a script can ask for.
const (
	ActKeep     ActionKind = iota // store in INBOX (or the default mailbox)
	ActFileInto                   // store in Mailbox
	ActRedirect                   // send to Address
	ActReject                     // refuse with Reason (Extended: ereject)
	ActVacation                   // send an auto-reply
)

// Action is one action of the result.
type Action struct {
	Kind     ActionKind
	Mailbox  string   // fileinto
	Create   bool     // fileinto :create
	Flags    []string // keep and fileinto (imap4flags)
	Address  string   // redirect
	Reason   string   // reject, ereject, vacation
	Extended bool     // ereject
	Vacation *Vacation
}

// Vacation is a vacation action's parameters (RFC 5230 section 4).
type Vacation struct {
	Days      int      // 0: the caller's default
	Subject   string   // "" : derived from the original
	From      string   // "" : the recipient
	Addresses []string // more addresses of the user
	Mime      bool     // Reason is a MIME entity
	Handle    string   // identifies this vacation action (default: derived from the arguments)
	Reason    string
}

// Result is the outcome of a run: the actions in order, an implicit keep
// (with the flags current at the end) appended when no action cancelled it.
type Result struct {
	Actions []Action
	// Discarded is set when the script cancelled the implicit keep without
	// storing the message anywhere (discard, or redirect/reject alone).
	Discarded bool
}

type interp struct {
	ctx      context.Context
	s        *Script
	msg      Message
	env      Envelope
	opt      Options
	steps    int
	vars     map[string]string
	matchVar []string
	flags    []string
	res      Result
	implicit bool
	redirs   int
}

var errStop = errors.New("stop")

// Run evaluates s against a message. On ErrLimit the partial result must
// be ignored and the message kept.
func Run(ctx context.Context, s *Script, msg Message, env Envelope, opt Options) (Result, error) {
	opt.Limits.setDefaults()
	if opt.Separator == "" {
		opt.Separator = "+"
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Zone == nil {
		opt.Zone = time.UTC
	}
	in := &interp{ctx: ctx, s: s, msg: msg, env: env, opt: opt, vars: map[string]string{}, implicit: true}
	err := in.block(s.Commands)
	if err != nil && !errors.Is(err, errStop) {
		return Result{}, err
	}
	hasKeep := slices.ContainsFunc(in.res.Actions, func(a Action) bool { return a.Kind == ActKeep || a.Kind == ActFileInto })
	if in.implicit {
		in.res.Actions = append(in.res.Actions, Action{Kind: ActKeep, Flags: slices.Clone(in.flags)})
	} else if !hasKeep {
		in.res.Discarded = true
	}
	return in.res, nil
}

func (in *interp) step() error {
	in.steps++
	if in.steps > in.opt.Limits.MaxSteps {
		return fmt.Errorf("%w: more than %d steps", ErrLimit, in.opt.Limits.MaxSteps)
	}
	if in.steps%256 == 0 && in.ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrLimit, in.ctx.Err())
	}
	return nil
}

func (in *interp) act(a Action) error {
	if len(in.res.Actions) >= in.opt.Limits.MaxActions {
		return fmt.Errorf("%w: more than %d actions", ErrLimit, in.opt.Limits.MaxActions)
	}
	in.res.Actions = append(in.res.Actions, a)
	return nil
}

func (in *interp) block(cmds []*Command) error {
	for i := 0; i < len(cmds); i++ {
		c := cmds[i]
		if err := in.step(); err != nil {
			return err
		}
		if c.Name == "if" {
			// Evaluate the if/elsif/else chain.
			j := i
			done := false
			for ; j < len(cmds); j++ {
				cc := cmds[j]
				if j > i && cc.Name != "elsif" && cc.Name != "else" {
					break
				}
				if done {
					continue
				}
				ok := true
				if cc.Test != nil {
					var err error
					if ok, err = in.test(cc.Test); err != nil {
						return err
					}
				}
				if ok {
					done = true
					if err := in.block(cc.Block); err != nil {
						return err
					}
				}
			}
			i = j - 1
			continue
		}
		if err := in.command(c); err != nil {
			return err
		}
	}
	return nil
}

func (in *interp) command(c *Command) error {
	a := c.sorted
	if a == nil {
		var err error
		if a, err = sortArgs(nil, c.Name, c.Args, commandSpecs[c.Name].tags); err != nil {
			return err
		}
	}
	str := func(i int) string { return in.expand(a.pos[i].Strings[0]) }
	_, copyTag := a.tags["copy"]
	switch c.Name {
	case "require":
	case "stop":
		return errStop
	case "keep":
		in.implicit = false
		return in.act(Action{Kind: ActKeep, Flags: in.flagsFor(a)})
	case "discard":
		in.implicit = false
	case "fileinto":
		if !copyTag {
			in.implicit = false
		}
		_, create := a.tags["create"]
		return in.act(Action{Kind: ActFileInto, Mailbox: str(0), Create: create, Flags: in.flagsFor(a)})
	case "redirect":
		if in.redirs >= in.opt.Limits.MaxRedirects {
			return fmt.Errorf("%w: more than %d redirects", ErrLimit, in.opt.Limits.MaxRedirects)
		}
		in.redirs++
		if !copyTag {
			in.implicit = false
		}
		return in.act(Action{Kind: ActRedirect, Address: str(0)})
	case "reject", "ereject":
		in.implicit = false
		return in.act(Action{Kind: ActReject, Reason: str(0), Extended: c.Name == "ereject"})
	case "setflag", "addflag", "removeflag":
		varName := ""
		list := a.pos[0]
		if len(a.pos) == 2 {
			varName, list = strings.ToLower(in.expand(a.pos[0].Strings[0])), a.pos[1]
		}
		var cur []string
		if varName == "" {
			cur = in.flags
		} else {
			cur = splitFlags(in.vars[varName])
		}
		given := []string{}
		for _, s := range list.Strings {
			given = append(given, splitFlags(in.expand(s))...)
		}
		switch c.Name {
		case "setflag":
			cur = addFlags(nil, given)
		case "addflag":
			cur = addFlags(cur, given)
		case "removeflag":
			cur = slices.DeleteFunc(slices.Clone(cur), func(f string) bool {
				return slices.ContainsFunc(given, func(g string) bool { return strings.EqualFold(f, g) })
			})
		}
		if varName == "" {
			in.flags = cur
		} else {
			return in.setVar(varName, strings.Join(cur, " "))
		}
	case "set":
		name := strings.ToLower(a.pos[0].Strings[0])
		v := in.expand(a.pos[1].Strings[0])
		// RFC 5229 section 4.1: modifiers apply by precedence.
		if _, ok := a.tags["lower"]; ok {
			v = strings.ToLower(v)
		}
		if _, ok := a.tags["upper"]; ok {
			v = strings.ToUpper(v)
		}
		if _, ok := a.tags["lowerfirst"]; ok && v != "" {
			r, n := utf8.DecodeRuneInString(v)
			v = strings.ToLower(string(r)) + v[n:]
		}
		if _, ok := a.tags["upperfirst"]; ok && v != "" {
			r, n := utf8.DecodeRuneInString(v)
			v = strings.ToUpper(string(r)) + v[n:]
		}
		if _, ok := a.tags["quotewildcard"]; ok {
			v = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`).Replace(v)
		}
		if _, ok := a.tags["quoteregex"]; ok {
			v = regexp.QuoteMeta(v)
		}
		if _, ok := a.tags["length"]; ok {
			v = strconv.Itoa(utf8.RuneCountInString(v))
		}
		return in.setVar(name, v)
	case "vacation":
		v := &Vacation{Reason: str(0)}
		if d, ok := a.tags["days"]; ok {
			v.Days = int(min(d.Num, 365))
		}
		if t, ok := a.tags["subject"]; ok {
			v.Subject = in.expand(t.Strings[0])
		}
		if t, ok := a.tags["from"]; ok {
			v.From = in.expand(t.Strings[0])
		}
		if t, ok := a.tags["addresses"]; ok {
			for _, s := range t.Strings {
				v.Addresses = append(v.Addresses, in.expand(s))
			}
		}
		_, v.Mime = a.tags["mime"]
		if t, ok := a.tags["handle"]; ok {
			v.Handle = in.expand(t.Strings[0])
		} else {
			// RFC 5230 section 4.2: the default handle is derived from the arguments.
			v.Handle = v.Subject + "\x00" + v.From + "\x00" + v.Reason
		}
		// Only one vacation per run (RFC 5230 section 4: a second is an error; be lenient).
		if slices.ContainsFunc(in.res.Actions, func(a Action) bool { return a.Kind == ActVacation }) {
			return nil
		}
		return in.act(Action{Kind: ActVacation, Vacation: v, Reason: v.Reason})
	}
	return nil
}

func (in *interp) flagsFor(a *args) []string {
	if f, ok := a.tags["flags"]; ok {
		var out []string
		for _, s := range f.Strings {
			out = addFlags(out, splitFlags(in.expand(s)))
		}
		return out
	}
	return slices.Clone(in.flags)
}

func splitFlags(s string) []string { return strings.Fields(s) }

func addFlags(cur, add []string) []string {
	out := slices.Clone(cur)
	for _, f := range add {
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, f) }) {
			out = append(out, f)
		}
	}
	return out
}

func (in *interp) setVar(name, v string) error {
	if _, ok := in.vars[name]; !ok && len(in.vars) >= in.opt.Limits.MaxVars {
		return fmt.Errorf("%w: more than %d variables", ErrLimit, in.opt.Limits.MaxVars)
	}
	in.vars[name] = truncRunes(v, in.opt.Limits.MaxVarSize)
	return nil
}

func truncRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// expand substitutes ${name} and ${N} (variables, RFC 5229 section 3) and
// ${hex:..} / ${unicode:..} (encoded-character, RFC 5228 section 2.4.2.4).
func (in *interp) expand(s string) string {
	vars := in.s.Extensions["variables"]
	enc := in.s.Extensions["encoded-character"]
	if !vars && !enc || !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		rest := s[i+j+1:]
		lname := strings.ToLower(name)
		switch {
		case enc && strings.HasPrefix(lname, "hex:"):
			if dec, ok := decodeHex(name[4:]); ok {
				b.WriteString(dec)
			} else {
				b.WriteString(s[i : i+j+1])
			}
		case enc && strings.HasPrefix(lname, "unicode:"):
			if dec, ok := decodeUnicode(name[8:]); ok {
				b.WriteString(dec)
			} else {
				b.WriteString(s[i : i+j+1])
			}
		case vars && isDigits(name):
			n, _ := strconv.Atoi(name)
			if n < len(in.matchVar) {
				b.WriteString(in.matchVar[n])
			}
		case vars && validVarName(name):
			b.WriteString(in.vars[lname])
		case vars && strings.Contains(name, "."):
			// Namespaced variables are not supported: they expand to "".
		default:
			b.WriteString(s[i : i+j+1])
		}
		if b.Len() > in.opt.Limits.MaxVarSize*4 {
			break
		}
		s = rest
	}
	return truncRunes(b.String(), in.opt.Limits.MaxVarSize*4)
}

func isDigits(s string) bool {
	if s == "" || len(s) > 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func decodeHex(s string) (string, bool) {
	var out []byte
	for _, f := range strings.Fields(s) {
		for len(f) > 0 {
			n := min(2, len(f))
			v, err := strconv.ParseUint(f[:n], 16, 8)
			if err != nil {
				return "", false
			}
			out = append(out, byte(v))
			f = f[n:]
		}
	}
	return string(out), true
}

func decodeUnicode(s string) (string, bool) {
	var b strings.Builder
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseUint(f, 16, 32)
		if err != nil || v > utf8.MaxRune || v >= 0xD800 && v <= 0xDFFF {
			return "", false
		}
		b.WriteRune(rune(v))
	}
	return b.String(), true
}

func (in *interp) expandList(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = in.expand(s)
	}
	return out
}

func (in *interp) test(t *Test) (bool, error) {
	if err := in.step(); err != nil {
		return false, err
	}
	switch t.Name {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "not":
		ok, err := in.test(t.Tests[0])
		return !ok, err
	case "anyof", "allof":
		for _, sub := range t.Tests {
			ok, err := in.test(sub)
			if err != nil {
				return false, err
			}
			if ok && t.Name == "anyof" {
				return true, nil
			}
			if !ok && t.Name == "allof" {
				return false, nil
			}
		}
		return t.Name == "allof", nil
	}
	a := t.sorted
	if a == nil {
		var err error
		if a, err = sortArgs(nil, t.Name, t.Args, testSpecs[t.Name].tags); err != nil {
			return false, err
		}
	}
	switch t.Name {
	case "exists":
		for _, h := range in.expandList(a.pos[0].Strings) {
			if len(in.msg.Header(h)) == 0 {
				return false, nil
			}
		}
		return true, nil
	case "size":
		n := a.pos[0].Num
		if _, over := a.tags["over"]; over {
			return in.msg.Size() > n, nil
		}
		return in.msg.Size() < n, nil
	case "header":
		var vals []string
		for _, h := range in.expandList(a.pos[0].Strings) {
			vals = append(vals, in.msg.Header(h)...)
		}
		return in.match(a, vals, in.expandList(a.pos[1].Strings))
	case "address", "envelope":
		var addrs []string
		for _, h := range in.expandList(a.pos[0].Strings) {
			if t.Name == "envelope" {
				switch strings.ToLower(h) {
				case "from":
					addrs = append(addrs, in.env.From)
				case "to":
					addrs = append(addrs, in.env.To)
				}
			} else {
				addrs = append(addrs, in.msg.Addresses(h)...)
			}
		}
		var vals []string
		for _, ad := range addrs {
			if v, ok := in.addressPart(ad, a.addrPart, t.Name == "envelope"); ok {
				vals = append(vals, v)
			}
		}
		return in.match(a, vals, in.expandList(a.pos[1].Strings))
	case "body":
		_, raw := a.tags["raw"]
		types := []string{"text"}
		if c, ok := a.tags["content"]; ok {
			types = in.expandList(c.Strings)
		}
		return in.match(a, in.msg.Body(raw, types), in.expandList(a.pos[0].Strings))
	case "string":
		return in.match(a, in.expandList(a.pos[0].Strings), in.expandList(a.pos[1].Strings))
	case "hasflag":
		var cur []string
		keys := a.pos[len(a.pos)-1]
		if len(a.pos) == 2 {
			for _, v := range in.expandList(a.pos[0].Strings) {
				cur = append(cur, splitFlags(in.vars[strings.ToLower(v)])...)
			}
		} else {
			cur = in.flags
		}
		var ks []string
		for _, k := range in.expandList(keys.Strings) {
			ks = append(ks, splitFlags(k)...)
		}
		return in.match(a, cur, ks)
	case "date", "currentdate":
		return in.dateTest(t.Name, a)
	}
	return false, t.Pos.errorf("unknown test %q", t.Name)
}

// addressPart picks the part of an address (RFC 5228 section 2.7.4, RFC 5233).
func (in *interp) addressPart(addr, part string, envelope bool) (string, bool) {
	if addr == "" {
		// The null reverse-path: only :all matches "" (RFC 5228 section 5.4).
		return "", part == "all" && envelope
	}
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr, ""
	if at >= 0 {
		local, domain = addr[:at], addr[at+1:]
	}
	switch part {
	case "localpart":
		return local, true
	case "domain":
		return domain, true
	case "user":
		if i := strings.Index(local, in.opt.Separator); i >= 0 {
			return local[:i], true
		}
		return local, true
	case "detail":
		if i := strings.Index(local, in.opt.Separator); i >= 0 {
			return local[i+len(in.opt.Separator):], true
		}
		return "", false // RFC 5233 section 4: no separator, no match
	}
	return addr, true
}

// match applies the match type and comparator to values and keys
// (RFC 5228 section 2.7); :matches and :regex set match variables.
func (in *interp) match(a *args, vals, keys []string) (bool, error) {
	switch a.match {
	case "count":
		n := strconv.Itoa(len(vals))
		for _, k := range keys {
			if relate(a.relation, compareNumeric(n, k)) {
				return true, nil
			}
		}
		return false, nil
	}
	for _, v := range vals {
		for _, k := range keys {
			if err := in.step(); err != nil {
				return false, err
			}
			ok, err := in.match1(a, v, k)
			if err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

func (in *interp) match1(a *args, v, k string) (bool, error) {
	switch a.match {
	case "is":
		return compare(a.comparator, v, k) == 0, nil
	case "value":
		return relate(a.relation, compare(a.comparator, v, k)), nil
	case "contains":
		if a.comparator == "i;ascii-casemap" {
			return strings.Contains(asciiLower(v), asciiLower(k)), nil
		}
		return strings.Contains(v, k), nil
	case "matches":
		re := in.pattern("g", k, a.comparator)
		if re == nil {
			return false, nil
		}
		m := re.FindStringSubmatch(v)
		if m == nil {
			return false, nil
		}
		in.setMatch(m)
		return true, nil
	case "regex":
		re := in.pattern("r", k, a.comparator)
		if re == nil {
			return false, nil // a bad expression built from variables matches nothing
		}
		m := re.FindStringSubmatch(v)
		if m == nil {
			return false, nil
		}
		in.setMatch(m)
		return true, nil
	}
	return false, nil
}

// maxCachedPatterns bounds the compiled patterns kept per script (keys
// built from variables could otherwise grow it without end).
const maxCachedPatterns = 512

// pattern returns the compiled :matches ("g") or :regex ("r") pattern,
// cached on the script; nil when it does not compile.
func (in *interp) pattern(kind, k, comparator string) *regexp.Regexp {
	key := kind + comparator + "\x00" + k
	if v, ok := in.s.patterns.Load(key); ok {
		re, _ := v.(*regexp.Regexp)
		return re
	}
	var re *regexp.Regexp
	var err error
	if kind == "g" {
		re, err = globRegexp(k, comparator == "i;ascii-casemap")
	} else {
		re, err = compileRegex(k, comparator)
	}
	if err != nil {
		re = nil
	}
	if in.s.cached.Add(1) <= maxCachedPatterns {
		in.s.patterns.Store(key, re)
	}
	return re
}

func (in *interp) setMatch(m []string) {
	if !in.s.Extensions["variables"] {
		return
	}
	n := min(len(m), 10)
	in.matchVar = make([]string, n)
	for i := range n {
		in.matchVar[i] = truncRunes(m[i], in.opt.Limits.MaxVarSize)
	}
}

// globRegexp turns a :matches pattern into an anchored regular expression
// with one group per wildcard (RFC 5229 section 3.2: ${1}... are the
// wildcards' matches, "*" taking as little as possible).
func globRegexp(pat string, fold bool) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("(?s)")
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; c {
		case '*':
			b.WriteString("(.*?)")
		case '?':
			b.WriteString("(.)")
		case '\\':
			if i+1 < len(pat) {
				i++
				b.WriteString(regexp.QuoteMeta(pat[i : i+1]))
			}
		default:
			b.WriteString(regexp.QuoteMeta(pat[i : i+1]))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// asciiLower lower-cases ASCII letters only (i;ascii-casemap, RFC 4790 section 9.2).
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if b[i] >= 'A' && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// compare orders two strings by a comparator (RFC 4790): -1, 0 or 1.
func compare(comparator, a, b string) int {
	switch comparator {
	case "i;octet":
		return strings.Compare(a, b)
	case "i;ascii-numeric":
		return compareNumeric(a, b)
	}
	return strings.Compare(asciiLower(a), asciiLower(b))
}

// compareNumeric is i;ascii-numeric (RFC 4790 section 9.1): the leading
// digits as a number; a string without leading digits is positive infinity.
func compareNumeric(a, b string) int {
	na, oka := leadingNumber(a)
	nb, okb := leadingNumber(b)
	switch {
	case !oka && !okb:
		return 0
	case !oka:
		return 1
	case !okb:
		return -1
	}
	if len(na) != len(nb) {
		if len(na) < len(nb) {
			return -1
		}
		return 1
	}
	return strings.Compare(na, nb)
}

func leadingNumber(s string) (string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return "", false
	}
	n := strings.TrimLeft(s[:i], "0")
	return n, true
}

func relate(rel string, c int) bool {
	switch rel {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	}
	return false
}

// dateTest implements date and currentdate (RFC 5260 sections 4 and 5).
func (in *interp) dateTest(name string, a *args) (bool, error) {
	zone := in.opt.Zone
	if z, ok := a.tags["zone"]; ok {
		if loc, ok := parseZone(in.expand(z.Strings[0])); ok {
			zone = loc
		}
	}
	var t time.Time
	var part string
	keys := a.pos[len(a.pos)-1]
	if name == "currentdate" {
		t = in.opt.Now.In(zone)
		part = strings.ToLower(a.pos[0].Strings[0])
	} else {
		part = strings.ToLower(a.pos[1].Strings[0])
		hs := in.msg.Header(in.expand(a.pos[0].Strings[0]))
		if len(hs) == 0 {
			return false, nil
		}
		v := hs[0]
		if strings.EqualFold(in.expand(a.pos[0].Strings[0]), "received") {
			// RFC 5260 section 4: the date of a Received field follows its last ";".
			if i := strings.LastIndexByte(v, ';'); i >= 0 {
				v = v[i+1:]
			}
		}
		d, err := parseDate(v)
		if err != nil {
			return false, nil
		}
		if _, orig := a.tags["originalzone"]; orig {
			t = d
		} else {
			t = d.In(zone)
		}
	}
	val := datePart(t, part)
	if a.match == "count" {
		return in.match(a, []string{val}, in.expandList(keys.Strings))
	}
	return in.match(a, []string{val}, in.expandList(keys.Strings))
}

func parseZone(z string) (*time.Location, bool) {
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return nil, false
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil {
		return nil, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone(z, off), true
}

func parseDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '('); i > 0 {
		v = strings.TrimSpace(v[:i])
	}
	for _, layout := range []string{time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700",
		time.RFC1123, "Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04 -0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", v)
}

func datePart(t time.Time, part string) string {
	switch part {
	case "year":
		return fmt.Sprintf("%04d", t.Year())
	case "month":
		return fmt.Sprintf("%02d", int(t.Month()))
	case "day":
		return fmt.Sprintf("%02d", t.Day())
	case "date":
		return t.Format("2006-01-02")
	case "julian":
		// Modified Julian Day (RFC 5260 section 4.1).
		mjd := t.Unix()/86400 + 40587
		if t.Unix() < 0 && t.Unix()%86400 != 0 {
			mjd--
		}
		return strconv.FormatInt(mjd, 10)
	case "hour":
		return fmt.Sprintf("%02d", t.Hour())
	case "minute":
		return fmt.Sprintf("%02d", t.Minute())
	case "second":
		return fmt.Sprintf("%02d", t.Second())
	case "time":
		return t.Format("15:04:05")
	case "iso8601":
		return t.Format(time.RFC3339)
	case "std11":
		return t.Format(time.RFC1123Z)
	case "zone":
		return t.Format("-0700")
	case "weekday":
		return strconv.Itoa(int(t.Weekday()))
	}
	return ""
}
