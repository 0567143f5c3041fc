// Command gen writes the project's own spam-filter test set
// (check/internal/corpus) as .eml files under -out: dev/{ham,spam} and
// heldout/{ham,spam}. check's TestCorpusFilesCurrent keeps the committed
// copy in check/testdata/corpus equal to the generator's output.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stamp-mail/stamp/check/internal/corpus"
)

func main() {
	out := flag.String("out", "testdata/corpus", "output directory (replaced)")
	flag.Parse()
	if err := os.RemoveAll(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	ms := corpus.Generate()
	for _, m := range ms {
		p := filepath.Join(*out, filepath.FromSlash(m.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(p, m.Raw, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("gen: %d messages -> %s\n", len(ms), *out)
}
