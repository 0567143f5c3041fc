// Package upgradetest holds the upgrade tests: databases written by this
// repository's own older code (testdata/, made by
// scripts/make-upgrade-fixtures.sh from git worktrees of older commits:
// v1 is the schema before inline blobs, v2 the one before migrations had
// explicit versions) are opened by today's code, migrated, and must keep
// every user, folder, message, flag and byte. The package has no code of
// its own.
package upgradetest
