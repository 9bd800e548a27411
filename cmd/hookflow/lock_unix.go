//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir takes an exclusive lock on the data directory for a server's
// lifetime: a second server on the same SQLite database would make the
// first one's running executions due at start (ExpireLeases) and run them
// twice. Only serve takes it: the other commands (token create, admin
// password, the workflow commands, backup, migrate) work beside a running
// server. The lock goes with the process.
func lockDataDir(dir string) (func(), error) {
	path := filepath.Join(dir, "hookflow.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another hookflow server uses the data directory %s (one server per SQLite database; several instances need PostgreSQL, --database)", dir)
		}
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	return func() { f.Close() }, nil
}
