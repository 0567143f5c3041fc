package sqlite

import "testing"

// TestMigrationsOrdered checks that migration versions ascend strictly, so
// the runner applies them in the order they were written.
func TestMigrationsOrdered(t *testing.T) {
	for i := 1; i < len(migrations); i++ {
		if migrations[i].version <= migrations[i-1].version {
			t.Fatalf("migration %d (version %d) does not follow version %d", i, migrations[i].version, migrations[i-1].version)
		}
	}
}
