package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gather-crawler/gather/internal/dbpath"
)

// checkPath refuses, before SQLite is asked, what cannot be a crawl's
// database, with the reason in words a user can act on: SQLite's own
// answers ("unable to open database file", "cannot switch to WAL mode")
// name neither the file nor the fix.
func checkPath(path string) error {
	if err := dbpath.Check(path); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("open database %s: directory %s: %w", path, dir, unwrapPath(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("open database %s: %s is not a directory", path, dir)
	}
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("open database %s: it is a directory", path)
		}
		if !writable(path) {
			return fmt.Errorf("database %s is read-only: a crawl writes to it (gather query can read it as it is)", path)
		}
		if !writable(dir) {
			if _, err := os.Stat(path + "-wal"); err != nil {
				return fmt.Errorf("database %s: its directory %s is not writable, and SQLite needs to create %s-wal and -shm beside it", path, dir, filepath.Base(path))
			}
		}
		return nil
	}
	if !writable(dir) {
		return fmt.Errorf("cannot create database %s: directory %s is not writable", path, dir)
	}
	return nil
}

// writable asks the kernel whether this process may write p (root may,
// whatever the mode bits say).
func writable(p string) bool { return syscall.Access(p, 2 /* W_OK */) == nil }

// openError explains SQLite's errors on open.
func openError(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "readonly") || strings.Contains(msg, "read-only"):
		return fmt.Errorf("database %s is read-only (%v): a crawl writes to it; make the file and its directory writable", path, err)
	case strings.Contains(msg, "unable to open database file"):
		return fmt.Errorf("cannot open database %s (%v): check that the file and its directory exist and are writable", path, err)
	case strings.Contains(msg, "file is not a database"), strings.Contains(msg, "malformed"):
		return fmt.Errorf("%s is not a SQLite database, or is damaged: %w", path, err)
	}
	return fmt.Errorf("database %s: %w", path, err)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
