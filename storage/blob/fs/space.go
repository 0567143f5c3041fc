package fs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Space returns the bytes available to this process and the total size of
// the file system holding the store.
func (s *Store) Space() (avail, total uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(s.dir, &st); err != nil {
		return 0, 0, fmt.Errorf("blob fs: statfs: %w", err)
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}
