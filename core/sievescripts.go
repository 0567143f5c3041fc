package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stamp-mail/stamp/core/sieve"
	"github.com/stamp-mail/stamp/storage"
)

// Sieve script limits per user (ManageSieve HAVESPACE, RFC 5804 section 2.5).
const (
	// MaxSieveScriptBytes bounds one script.
	MaxSieveScriptBytes = 1 << 20
	// MaxSieveScripts bounds how many scripts a user keeps.
	MaxSieveScripts = 32
	// maxSieveNameLen bounds a script name, in characters.
	maxSieveNameLen = 128
)

// ErrScriptActive: the active Sieve script cannot be deleted.
var ErrScriptActive = storage.ErrScriptActive

// ErrQuota: a Sieve script or script count limit would be exceeded.
var ErrQuota = errors.New("sieve script quota exceeded")

// SieveScript is a stored Sieve script.
type SieveScript = storage.SieveScript

// ScriptError is a Sieve script that does not parse; Err holds the line and column.
type ScriptError struct{ Err *sieve.Error }

// Error implements error.
func (e *ScriptError) Error() string { return "invalid sieve script: " + e.Err.Error() }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ScriptError) Unwrap() error { return ErrInvalid }

// CheckSieveScript parses a script; a *ScriptError tells what is wrong and where.
func CheckSieveScript(text string) error {
	if len(text) > MaxSieveScriptBytes {
		return fmt.Errorf("%w: script larger than %d bytes", ErrQuota, MaxSieveScriptBytes)
	}
	if _, err := sieve.Parse(text); err != nil {
		var se *sieve.Error
		if errors.As(err, &se) {
			return &ScriptError{Err: se}
		}
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// validScriptName follows RFC 5804 section 1.6: no control characters, not empty.
func validScriptName(name string) error {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxSieveNameLen {
		return fmt.Errorf("%w: script name must be 1 to %d characters of UTF-8", ErrInvalid, maxSieveNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == 0x2028 || r == 0x2029 {
			return fmt.Errorf("%w: script name has a control character", ErrInvalid)
		}
	}
	return nil
}

// SieveHaveSpace says whether a script of size bytes named name fits.
func (s *Service) SieveHaveSpace(ctx context.Context, userID int64, name string, size int64) error {
	if err := validScriptName(name); err != nil {
		return err
	}
	if size > MaxSieveScriptBytes {
		return fmt.Errorf("%w: scripts are limited to %d bytes", ErrQuota, MaxSieveScriptBytes)
	}
	list, err := s.store.ListSieveScripts(ctx, userID)
	if err != nil {
		return temporary("list sieve scripts", err)
	}
	if len(list) >= MaxSieveScripts {
		for _, sc := range list {
			if sc.Name == name {
				return nil
			}
		}
		return fmt.Errorf("%w: at most %d scripts", ErrQuota, MaxSieveScripts)
	}
	return nil
}

// PutSieveScript validates and stores a script (not activating it).
func (s *Service) PutSieveScript(ctx context.Context, userID int64, name, text string) error {
	if err := s.SieveHaveSpace(ctx, userID, name, int64(len(text))); err != nil {
		return err
	}
	if err := CheckSieveScript(text); err != nil {
		return err
	}
	defer s.settingsChanged(ctx, userID)
	return s.store.PutSieveScript(ctx, userID, name, text)
}

// GetSieveScript returns one script.
func (s *Service) GetSieveScript(ctx context.Context, userID int64, name string) (SieveScript, error) {
	return s.store.GetSieveScript(ctx, userID, name)
}

// ListSieveScripts returns a user's scripts by name.
func (s *Service) ListSieveScripts(ctx context.Context, userID int64) ([]SieveScript, error) {
	return s.store.ListSieveScripts(ctx, userID)
}

// ActiveSieveScript returns the user's active script; ErrNotFound when none is active.
func (s *Service) ActiveSieveScript(ctx context.Context, userID int64) (SieveScript, error) {
	return s.store.ActiveSieveScript(ctx, userID)
}

// SetActiveSieveScript activates a script ("" deactivates). A script that
// no longer parses (written before a validation change) cannot be activated.
func (s *Service) SetActiveSieveScript(ctx context.Context, userID int64, name string) error {
	if name != "" {
		sc, err := s.store.GetSieveScript(ctx, userID, name)
		if err != nil {
			return err
		}
		if err := CheckSieveScript(sc.Script); err != nil {
			return err
		}
	}
	defer s.settingsChanged(ctx, userID)
	return s.store.SetActiveSieveScript(ctx, userID, name)
}

// DeleteSieveScript removes an inactive script.
func (s *Service) DeleteSieveScript(ctx context.Context, userID int64, name string) error {
	defer s.settingsChanged(ctx, userID)
	return s.store.DeleteSieveScript(ctx, userID, name)
}

// RenameSieveScript renames a script.
func (s *Service) RenameSieveScript(ctx context.Context, userID int64, oldName, newName string) error {
	if err := validScriptName(newName); err != nil {
		return err
	}
	defer s.settingsChanged(ctx, userID)
	return s.store.RenameSieveScript(ctx, userID, oldName, newName)
}

// SieveExtensions lists the Sieve capabilities supported, space separated
// (ManageSieve's SIEVE capability).
func SieveExtensions() string { return strings.Join(sieve.Supported, " ") }
