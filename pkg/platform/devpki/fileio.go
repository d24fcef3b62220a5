package devpki

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// writeFile replaces path with data atomically (a temporary file renamed
// over it), so a reader never sees half a key and a crash never leaves one.
// The mode is set before any data is written: a key is never readable by
// others, not even for a moment.
func writeFile(path string, data []byte, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("devpki: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("devpki: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("devpki: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("devpki: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("devpki: %w", err)
	}
	return nil
}

// writeIfChanged writes data unless path already holds exactly it, so a
// file derived from another (the JWKS from the key) keeps its bytes and
// modification time across runs.
func writeIfChanged(path string, data []byte, mode os.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) { //nolint:gosec // a path inside the PKI directory
		return false, nil
	}
	return true, writeFile(path, data, mode)
}
