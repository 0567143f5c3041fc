package storage

import (
	"errors"
	"fmt"
	"slices"
)

// ErrSchemaTooNew is returned (wrapped) when opening a database that holds a
// migration this binary does not know: it was written by a newer Stamp, and
// running an older one on it could misread or damage it.
var ErrSchemaTooNew = errors.New("database schema is newer than this version of stamp")

// CheckSchemaKnown returns ErrSchemaTooNew, with a sentence that says what
// to do, if applied holds a version not in known. Migration versions have
// gaps, so "newer" means unknown, not merely higher.
func CheckSchemaKnown(applied map[int]bool, known []int) error {
	var unknown []int
	for v := range applied {
		if !slices.Contains(known, v) {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("%w: it has migration(s) %v, and this binary knows only up to %d; "+
		"run the newer stamp that wrote it, or restore a backup made before the upgrade", ErrSchemaTooNew, unknown, slices.Max(known))
}
