package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/storage/blob"
	"github.com/stamp-mail/stamp/storage/blob/fs"
	"github.com/stamp-mail/stamp/storage/postgres"
	"github.com/stamp-mail/stamp/storage/sqlite"
)

// Backup layout. A backup folder holds any number of snapshots beside one
// shared, content-addressed blob folder:
//
//	PATH/blobs/...                  the blob store's own layout, shared by every snapshot
//	PATH/20261201T170102.123Z/      one snapshot:
//	    stamp.db  (SQLite)  or  stamp.pgdump (PostgreSQL, pg_dump custom format)
//	    manifest.json                written last
//
// A snapshot is written under a ".partial-" name, its manifest is written and
// fsynced last, and only then is the folder renamed to its final name: a
// backup interrupted at any point leaves either no snapshot or a ".partial-"
// folder, which Restore never takes. Blobs already present in PATH/blobs
// (same hash, so same bytes) are not copied again: every backup after the
// first copies only new blobs.
const (
	manifestName   = "manifest.json"
	backupBlobDir  = "blobs"
	partialPrefix  = ".partial-"
	sqliteDumpName = "stamp.db"
	pgDumpName     = "stamp.pgdump"
	snapshotLayout = "20060102T150405.000Z"
	manifestFormat = 1
)

// Manifest describes a complete snapshot.
type Manifest struct {
	Format        int       `json:"format"`
	StampVersion  string    `json:"stamp_version"`
	CreatedAt     time.Time `json:"created_at"`
	Database      string    `json:"database"` // sqlite | postgres
	File          string    `json:"file"`     // the metadata file in the snapshot folder
	FileSize      int64     `json:"file_size"`
	FileSHA256    string    `json:"file_sha256"`
	SchemaVersion int       `json:"schema_version"`
	Blobs         []string  `json:"blobs"` // hashes in PATH/blobs this snapshot needs
	BlobBytes     int64     `json:"blob_bytes"`
	BlobsCopied   int       `json:"blobs_copied"` // of Blobs, how many this run copied (the rest were there)
}

// BackupResult says what Backup wrote.
type BackupResult struct {
	Dir      string // the snapshot folder
	Manifest Manifest
}

// Backup writes a consistent snapshot of the running (or stopped) server
// described by c into dest (see the layout above): the metadata through
// SQLite's VACUUM INTO or pg_dump of an exported REPEATABLE READ snapshot,
// then every blob that snapshot references, then the manifest.
func Backup(ctx context.Context, c Config, dest, version string, log *slog.Logger) (BackupResult, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dest, 0o700); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	now := time.Now().UTC()
	name := now.Format(snapshotLayout)
	partial := filepath.Join(dest, partialPrefix+name)
	final := filepath.Join(dest, name)
	if err := os.Mkdir(partial, 0o700); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(partial)
		}
	}()
	src, err := fs.Open(c.Storage.BlobDir)
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup: blob store: %w", err)
	}
	dst, err := fs.Open(filepath.Join(dest, backupBlobDir))
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	m := Manifest{Format: manifestFormat, StampVersion: version, CreatedAt: now, Database: c.Storage.Database}
	copyBlobs := func(refs []blobRef) error {
		for _, r := range refs {
			copied, err := copyBlob(ctx, src, dst, r.hash)
			if errors.Is(err, blob.ErrNotFound) && !r.referenced {
				continue // unreferenced and already collected: nothing needs it
			}
			if err != nil {
				return fmt.Errorf("backup: blob %s: %w", r.hash, err)
			}
			m.Blobs = append(m.Blobs, r.hash)
			m.BlobBytes += r.size
			if copied {
				m.BlobsCopied++
			}
		}
		return nil
	}
	switch c.Storage.Database {
	case "sqlite":
		m.File = sqliteDumpName
		out := filepath.Join(partial, m.File)
		if err := sqlite.BackupFile(ctx, c.Storage.DSN, out); err != nil {
			return BackupResult{}, err
		}
		// The copy is the snapshot: the blobs to copy are the ones it names.
		fi, err := sqlite.CheckFile(ctx, out)
		if err != nil {
			return BackupResult{}, err
		}
		if fi.Integrity != "ok" {
			return BackupResult{}, fmt.Errorf("backup: the copy fails PRAGMA integrity_check: %s", fi.Integrity)
		}
		m.SchemaVersion = fi.SchemaVersion
		refs := make([]blobRef, len(fi.Blobs))
		for i, b := range fi.Blobs {
			refs[i] = blobRef{b.Hash, b.Size, b.Referenced}
		}
		if err := copyBlobs(refs); err != nil {
			return BackupResult{}, err
		}
	case "postgres":
		m.File = pgDumpName
		out := filepath.Join(partial, m.File)
		st, err := postgres.Open(ctx, c.Storage.DSN, postgres.Options{Partitions: c.Storage.Partitions, Logger: log})
		if err != nil {
			return BackupResult{}, err
		}
		defer st.Close()
		if m.SchemaVersion, err = st.SchemaVersion(ctx); err != nil {
			return BackupResult{}, err
		}
		err = st.Snapshot(ctx, func(snapshot string, bs []postgres.BlobRef) error {
			cmd := exec.CommandContext(ctx, "pg_dump", "--format=custom", "--no-owner", "--snapshot="+snapshot,
				"--file="+out, "--dbname="+c.Storage.DSN)
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("backup: pg_dump: %v: %s", err, strings.TrimSpace(string(b)))
			}
			refs := make([]blobRef, len(bs))
			for i, b := range bs {
				refs[i] = blobRef{b.Hash, b.Size, b.Referenced}
			}
			// Copied while the snapshot is held, so nothing it references
			// can be collected meanwhile by a vacuum of the rows.
			return copyBlobs(refs)
		})
		if err != nil {
			return BackupResult{}, err
		}
	default:
		return BackupResult{}, fmt.Errorf("backup: storage.database %q is not supported", c.Storage.Database)
	}
	size, sum, err := fileSHA256(filepath.Join(partial, m.File))
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	m.FileSize, m.FileSHA256 = size, sum
	if err := syncFile(filepath.Join(partial, m.File)); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return BackupResult{}, err
	}
	if err := writeFileSync(filepath.Join(partial, manifestName), append(mb, '\n')); err != nil {
		return BackupResult{}, fmt.Errorf("backup: manifest: %w", err)
	}
	if err := syncDir(partial); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(partial, final); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	keep = true
	if err := syncDir(dest); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	log.Info("backup written", "dir", final, "blobs", len(m.Blobs), "copied", m.BlobsCopied)
	return BackupResult{Dir: final, Manifest: m}, nil
}

type blobRef struct {
	hash       string
	size       int64
	referenced bool
}

// copyBlob copies one blob unless dst has it; it reports whether it copied.
// The bytes are checked against the hash on the way.
func copyBlob(ctx context.Context, src, dst *fs.Store, hash string) (bool, error) {
	if r, err := dst.Open(ctx, hash); err == nil {
		r.Close()
		return false, nil
	}
	r, err := src.Open(ctx, hash)
	if err != nil {
		return false, err
	}
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return false, err
	}
	if got := blob.Hash(b); got != hash {
		return false, fmt.Errorf("content does not match its hash (got %s)", got)
	}
	if _, err := dst.PutAll(ctx, [][]byte{b}); err != nil {
		return false, err
	}
	return true, nil
}

// FindSnapshot returns the snapshot folder to restore from path: path
// itself when it holds a manifest, else the newest complete snapshot in it.
func FindSnapshot(path string) (string, Manifest, error) {
	if m, err := readManifest(path); err == nil {
		return path, m, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return "", Manifest{}, fmt.Errorf("restore: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && e.Name() != backupBlobDir {
			names = append(names, e.Name())
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for _, n := range names {
		dir := filepath.Join(path, n)
		if m, err := readManifest(dir); err == nil {
			return dir, m, nil
		}
	}
	return "", Manifest{}, fmt.Errorf("restore: no complete backup in %s (a complete one has a %s)", path, manifestName)
}

func readManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", manifestName, err)
	}
	if m.Format != manifestFormat || m.File == "" {
		return m, fmt.Errorf("%s: unknown format %d", manifestName, m.Format)
	}
	return m, nil
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	From     string
	Manifest Manifest
	Blobs    int
}

// Restore puts the snapshot found in path (see FindSnapshot) into the
// storage c describes: the SQLite file (or pg_restore into the database)
// and the blobs. It refuses a data_dir (or PostgreSQL database) that is not
// empty unless force. The server must not be running.
func Restore(ctx context.Context, c Config, path string, force bool) (RestoreResult, error) {
	dir, m, err := FindSnapshot(path)
	if err != nil {
		return RestoreResult{}, err
	}
	res := RestoreResult{From: dir, Manifest: m}
	if m.Database != c.Storage.Database {
		return res, fmt.Errorf("restore: the backup is of a %s database, the configuration uses %s", m.Database, c.Storage.Database)
	}
	file := filepath.Join(dir, m.File)
	size, sum, err := fileSHA256(file)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	if size != m.FileSize || sum != m.FileSHA256 {
		return res, fmt.Errorf("restore: %s does not match its manifest (damaged backup)", file)
	}
	if !force {
		if err := emptyDir(c.DataDir); err != nil {
			return res, err
		}
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return res, fmt.Errorf("restore: data_dir: %w", err)
	}
	switch m.Database {
	case "sqlite":
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(c.Storage.DSN + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return res, fmt.Errorf("restore: %w", err)
			}
		}
		if err := os.MkdirAll(filepath.Dir(c.Storage.DSN), 0o700); err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
		tmp := c.Storage.DSN + ".restoring"
		if err := copyFileSync(file, tmp); err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
		fi, err := sqlite.CheckFile(ctx, tmp)
		if err != nil {
			os.Remove(tmp)
			return res, err
		}
		if fi.Integrity != "ok" {
			os.Remove(tmp)
			return res, fmt.Errorf("restore: the backup fails PRAGMA integrity_check: %s", fi.Integrity)
		}
		if err := os.Rename(tmp, c.Storage.DSN); err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
		if err := syncDir(filepath.Dir(c.Storage.DSN)); err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
	case "postgres":
		v, err := postgres.ExistingSchemaVersion(ctx, c.Storage.DSN)
		if err != nil {
			return res, err
		}
		args := []string{"--no-owner", "--exit-on-error", "--single-transaction", "--dbname=" + c.Storage.DSN}
		if v > 0 {
			if !force {
				return res, fmt.Errorf("restore: the database already holds Stamp data (schema version %d); use --force to replace it", v)
			}
			args = append(args, "--clean", "--if-exists")
		}
		cmd := exec.CommandContext(ctx, "pg_restore", append(args, file)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			return res, fmt.Errorf("restore: pg_restore: %v: %s", err, strings.TrimSpace(string(b)))
		}
	}
	// Snapshots sit beside the blob folder they share.
	src, err := fs.Open(filepath.Join(filepath.Dir(dir), backupBlobDir))
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	dst, err := fs.Open(c.Storage.BlobDir)
	if err != nil {
		return res, fmt.Errorf("restore: blob store: %w", err)
	}
	for _, h := range m.Blobs {
		if _, err := copyBlob(ctx, src, dst, h); err != nil {
			return res, fmt.Errorf("restore: blob %s: %w", h, err)
		}
		res.Blobs++
	}
	return res, nil
}

// emptyDir fails unless dir is absent or empty.
func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("restore: data_dir %s is not empty (%d entries); use --force to restore over it", dir, len(ents))
	}
	return nil
}

func fileSHA256(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) error { return syncFile(dir) }

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func copyFileSync(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
