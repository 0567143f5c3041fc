package mailfile

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// maildirFlags maps Maildir info letters (in the ":2," part of a file name,
// ASCII order as the spec requires) to IMAP flags.
var maildirFlags = []struct {
	letter byte
	flag   string
}{
	{'D', FlagDraft},
	{'F', FlagFlagged},
	{'R', FlagAnswered},
	{'S', FlagSeen},
	{'T', FlagDeleted},
}

// FolderName turns a Maildir++ folder directory name (".Sent",
// ".Lists.go") into a Stamp mailbox name ("Sent", "Lists/go"), undoing
// Maildir++'s "." hierarchy separator. The root is INBOX.
func FolderName(dir string) string {
	if dir == "" || dir == "." {
		return "INBOX"
	}
	return strings.ReplaceAll(strings.TrimPrefix(dir, "."), ".", "/")
}

// FolderDir is the Maildir++ directory of a Stamp mailbox name ("" for INBOX).
// A "." inside a level has no Maildir++ spelling; it becomes "_".
func FolderDir(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return ""
	}
	levels := strings.Split(name, "/")
	for i, l := range levels {
		levels[i] = strings.ReplaceAll(l, ".", "_")
	}
	return "." + strings.Join(levels, ".")
}

// ReadMaildir calls fn for every message of the Maildir at root and of its
// Maildir++ folders (subdirectories named ".Name" holding cur/ and new/),
// folders in name order, messages in file-name order (which starts with the
// delivery time). Flags come from the ":2," info; the date from the file's
// modification time, as Dovecot and Courier keep it.
func ReadMaildir(root string, fn func(Message) error) error {
	if !isMaildir(root) {
		return fmt.Errorf("maildir: %s has no cur/ or new/ folder", root)
	}
	folders := []string{""}
	ents, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") && e.Name() != "." && e.Name() != ".." && isMaildir(filepath.Join(root, e.Name())) {
			folders = append(folders, e.Name())
		}
	}
	sort.Strings(folders[1:])
	for _, f := range folders {
		name := FolderName(f)
		for _, sub := range []string{"cur", "new"} {
			dir := filepath.Join(root, f, sub)
			files, err := os.ReadDir(dir)
			if err != nil {
				if os.IsNotExist(err) {
					continue
				}
				return fmt.Errorf("maildir: %w", err)
			}
			for _, file := range files {
				if file.IsDir() || strings.HasPrefix(file.Name(), ".") {
					continue
				}
				m, err := readFile(filepath.Join(dir, file.Name()), name)
				if err != nil {
					return err
				}
				m.Flags = flagsFromName(file.Name())
				if err := fn(m); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err == nil && st.IsDir() {
			return true
		}
	}
	return false
}

func readFile(path, folder string) (Message, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Message{}, fmt.Errorf("maildir: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return Message{}, fmt.Errorf("maildir: %w", err)
	}
	return Message{Folder: folder, Raw: ToCRLF(b), Date: st.ModTime()}, nil
}

// flagsFromName reads the flags of a Maildir file name "unique:2,FRS".
// Dovecot's keyword letters (a-z, named in its dovecot-keywords file) are
// not kept.
func flagsFromName(name string) []string {
	i := strings.LastIndex(name, ":2,")
	if i < 0 {
		// Some systems cannot have ':' in file names and use '!' or ';'.
		if i = strings.LastIndex(name, "!2,"); i < 0 {
			i = strings.LastIndex(name, ";2,")
		}
	}
	if i < 0 {
		return nil
	}
	var flags []string
	for _, c := range []byte(name[i+3:]) {
		for _, f := range maildirFlags {
			if f.letter == c && !slices.Contains(flags, f.flag) {
				flags = append(flags, f.flag)
			}
		}
	}
	return flags
}

// ReadEMLDir calls fn for every regular file ending in .eml in dir (not
// recursive), in name order, into folder, dated by modification time.
func ReadEMLDir(dir, folder string, fn func(Message) error) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("eml: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".eml") {
			continue
		}
		m, err := readFile(filepath.Join(dir, e.Name()), folder)
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

// MaildirWriter writes messages into a Maildir with Maildir++ folders.
type MaildirWriter struct {
	root string
	seq  atomic.Uint64
	host string
	made map[string]bool
}

// NewMaildirWriter prepares root (created if needed) as a Maildir.
func NewMaildirWriter(root string) (*MaildirWriter, error) {
	w := &MaildirWriter{root: root, made: map[string]bool{}}
	var b [4]byte
	rand.Read(b[:])
	w.host = "stamp" + hex.EncodeToString(b[:])
	if err := w.mkdirs(""); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *MaildirWriter) mkdirs(dir string) error {
	if w.made[dir] {
		return nil
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(w.root, dir, sub), 0o700); err != nil {
			return fmt.Errorf("maildir: %w", err)
		}
	}
	if dir != "" {
		// Maildir++: a folder is marked by this file.
		f, err := os.OpenFile(filepath.Join(w.root, dir, "maildirfolder"), os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("maildir: %w", err)
		}
		f.Close()
	}
	w.made[dir] = true
	return nil
}

// Write stores m in cur/ of its folder under a unique name carrying its
// flags, written in tmp/ first (the Maildir delivery protocol), with LF
// line endings and the file time set to the internal date. It returns the
// file's path.
func (w *MaildirWriter) Write(m Message) (string, error) {
	dir := FolderDir(m.Folder)
	if err := w.mkdirs(dir); err != nil {
		return "", err
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	var info []byte
	for _, f := range maildirFlags {
		if slices.Contains(m.Flags, f.flag) {
			info = append(info, f.letter)
		}
	}
	uniq := strconv.FormatInt(date.Unix(), 10) + ".M" + strconv.FormatInt(int64(date.Nanosecond()/1000), 10) +
		"Q" + strconv.FormatUint(w.seq.Add(1), 10) + "." + w.host
	tmp := filepath.Join(w.root, dir, "tmp", uniq)
	final := filepath.Join(w.root, dir, "cur", uniq+":2,"+string(info))
	if err := os.WriteFile(tmp, ToLF(m.Raw), 0o600); err != nil {
		return "", fmt.Errorf("maildir: %w", err)
	}
	if err := os.Chtimes(tmp, date, date); err != nil {
		return "", fmt.Errorf("maildir: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("maildir: %w", err)
	}
	return final, nil
}
