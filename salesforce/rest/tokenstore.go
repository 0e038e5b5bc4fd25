package rest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The token file holds the current refresh token as plain text (surrounding whitespace ignored),
// so an operator can also create it by hand. When Salesforce rotates the refresh token (the
// connected app's "refresh token rotation"), the old one stops working at once: the new one must
// survive a restart, hence the atomic replace.

// readTokenFile returns the refresh token stored at path; ok is false when the file does not
// exist.
func readTokenFile(path string) (token string, ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("cannot read it: %w", err)
	}
	token = strings.TrimSpace(string(data))
	if token == "" {
		return "", false, errors.New("the file is empty")
	}
	return token, true, nil
}

// writeTokenFile replaces path with token atomically: a 0600 temporary file in the same directory,
// synced, then renamed over path.
func writeTokenFile(path, token string) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err = tmp.WriteString(token + "\n"); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { // persist the rename itself; best effort
		d.Sync()
		d.Close()
	}
	return nil
}
