package managesieve

import (
	"strconv"
	"strings"

	"github.com/stamp-mail/stamp/core"
)

// haveSpace is HAVESPACE name size (RFC 5804 section 2.5).
func (sess *session) haveSpace(args []token) error {
	if len(args) != 2 || args[0].atom || !args[1].number {
		return sess.bump("Usage: HAVESPACE \"name\" size")
	}
	size, _ := strconv.ParseInt(args[1].value, 10, 64)
	if err := sess.srv.opts.Core.SieveHaveSpace(sess.ctx, sess.user.ID, args[0].value, size); err != nil {
		return sess.fail(err)
	}
	return sess.ok("Putscript would succeed")
}

// putScript is PUTSCRIPT name script (RFC 5804 section 2.6): a script that
// does not parse is refused with its line and column.
func (sess *session) putScript(args []token) error {
	a, ok := stringArgs(args, 2)
	if !ok {
		return sess.bump("Usage: PUTSCRIPT \"name\" {size+} script")
	}
	if err := sess.srv.opts.Core.PutSieveScript(sess.ctx, sess.user.ID, a[0], a[1]); err != nil {
		return sess.fail(err)
	}
	return sess.ok("Script stored")
}

// checkScript is CHECKSCRIPT script (RFC 5804 section 2.12).
func (sess *session) checkScript(args []token) error {
	a, ok := stringArgs(args, 1)
	if !ok {
		return sess.bump("Usage: CHECKSCRIPT {size+} script")
	}
	if err := core.CheckSieveScript(a[0]); err != nil {
		return sess.fail(err)
	}
	return sess.ok("Script is valid")
}

// listScripts is LISTSCRIPTS (RFC 5804 section 2.7).
func (sess *session) listScripts(args []token) error {
	if len(args) != 0 {
		return sess.bump("LISTSCRIPTS takes no arguments")
	}
	list, err := sess.srv.opts.Core.ListSieveScripts(sess.ctx, sess.user.ID)
	if err != nil {
		return sess.fail(err)
	}
	var b strings.Builder
	for _, sc := range list {
		b.WriteString(quote(sc.Name))
		if sc.Active {
			b.WriteString(" ACTIVE")
		}
		b.WriteString("\r\n")
	}
	return sess.send(b.String() + response("OK", "", "Listscripts completed"))
}

// setActive is SETACTIVE name, "" deactivating (RFC 5804 section 2.8).
func (sess *session) setActive(args []token) error {
	a, ok := stringArgs(args, 1)
	if !ok {
		return sess.bump("Usage: SETACTIVE \"name\"")
	}
	if err := sess.srv.opts.Core.SetActiveSieveScript(sess.ctx, sess.user.ID, a[0]); err != nil {
		return sess.fail(err)
	}
	return sess.ok("Active script set")
}

// getScript is GETSCRIPT name (RFC 5804 section 2.9): the script as a literal.
func (sess *session) getScript(args []token) error {
	a, ok := stringArgs(args, 1)
	if !ok {
		return sess.bump("Usage: GETSCRIPT \"name\"")
	}
	sc, err := sess.srv.opts.Core.GetSieveScript(sess.ctx, sess.user.ID, a[0])
	if err != nil {
		return sess.fail(err)
	}
	return sess.send("{" + strconv.Itoa(len(sc.Script)) + "}\r\n" + sc.Script + "\r\n" + response("OK", "", "Getscript completed"))
}

// deleteScript is DELETESCRIPT name (RFC 5804 section 2.10).
func (sess *session) deleteScript(args []token) error {
	a, ok := stringArgs(args, 1)
	if !ok {
		return sess.bump("Usage: DELETESCRIPT \"name\"")
	}
	if err := sess.srv.opts.Core.DeleteSieveScript(sess.ctx, sess.user.ID, a[0]); err != nil {
		return sess.fail(err)
	}
	return sess.ok("Script deleted")
}

// renameScript is RENAMESCRIPT old new (RFC 5804 section 2.11.1).
func (sess *session) renameScript(args []token) error {
	a, ok := stringArgs(args, 2)
	if !ok {
		return sess.bump("Usage: RENAMESCRIPT \"old\" \"new\"")
	}
	if err := sess.srv.opts.Core.RenameSieveScript(sess.ctx, sess.user.ID, a[0], a[1]); err != nil {
		return sess.fail(err)
	}
	return sess.ok("Script renamed")
}
