package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Every process that opens a database file takes a lock on a file next to
// it, DB.lock: writers an exclusive lock, readers a shared one, as DuckDB's
// own file lock would (one writing process, or any number of reading ones).
// Taking socq's lock first lets a process wait for another, and name it when
// it gives up, instead of failing with DuckDB's lock error. The lock file
// records the holder (pid and command) so that a waiting process can say
// whom it waits for. Locks are flock(2) locks: the kernel drops them when
// their process ends, however it ends, so a lock is never stale.

// DefaultLockWait is how long Open waits for another process's lock when
// neither Options.LockWait nor $SOCQ_LOCK_WAIT says otherwise.
const DefaultLockWait = 2 * time.Minute

// LockHolder is the process that holds (or last took) a database's lock.
type LockHolder struct {
	PID     int    `json:"pid"`
	Command string `json:"command"` // the socq command, e.g. "ingest", "serve"
	Write   bool   `json:"write"`   // an exclusive (writer's) lock
}

// String names the holder for people: "socq serve, pid 1234".
func (h LockHolder) String() string {
	if h.PID == 0 {
		return "another socq process"
	}
	cmd := "socq"
	if h.Command != "" {
		cmd += " " + h.Command
	}
	return cmd + ", pid " + strconv.Itoa(h.PID)
}

// InUseError is returned by Open when another process holds the database
// longer than the lock wait.
type InUseError struct {
	Path   string
	Holder LockHolder
	Waited time.Duration
}

func (e *InUseError) Error() string {
	msg := fmt.Sprintf("database %s is in use by %s", e.Path, e.Holder)
	if e.Waited > 0 {
		msg += fmt.Sprintf(" (waited %s; set SOCQ_LOCK_WAIT to wait longer)", e.Waited)
	}
	return msg
}

// LockPath is the lock file of the database at path.
func LockPath(path string) string { return path + ".lock" }

// fileLock is a held lock; release drops it.
type fileLock struct{ f *os.File }

func (l *fileLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}

// lockWait is how long to wait for a lock: opts.LockWait when set (negative:
// not at all), else $SOCQ_LOCK_WAIT, else DefaultLockWait.
func lockWait(opts Options) (time.Duration, error) {
	switch {
	case opts.LockWait < 0:
		return 0, nil
	case opts.LockWait > 0:
		return opts.LockWait, nil
	}
	env := strings.TrimSpace(os.Getenv("SOCQ_LOCK_WAIT"))
	if env == "" {
		return DefaultLockWait, nil
	}
	d, err := time.ParseDuration(env)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("SOCQ_LOCK_WAIT=%q: want a duration such as 30s or 5m", env)
	}
	return d, nil
}

// lockPollInterval is how often a waiting process tries the lock again.
const lockPollInterval = 50 * time.Millisecond

// acquireLock takes the lock of the database at path: exclusive for a
// writer, shared for a reader. It waits up to wait for another holder,
// writing one line to waiting (if not nil) when it starts to wait, and
// then fails with an *InUseError.
func acquireLock(ctx context.Context, path string, write bool, command string, wait time.Duration, waiting io.Writer) (*fileLock, error) {
	lockPath := LockPath(path)
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	canRecord := err == nil
	if err != nil && !write && (errors.Is(err, fs.ErrPermission) || errors.Is(err, unix.EROFS)) {
		// A reader of a database in a directory it cannot write: use the
		// lock file if it is there, else go on without one (no socq process
		// can write there either).
		f, err = os.Open(lockPath)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return &fileLock{}, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lock database %s: %w", path, err)
	}
	how := unix.LOCK_SH
	if write {
		how = unix.LOCK_EX
	}
	start := time.Now()
	announced := false
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock database %s: %w", path, err)
		}
		waited := time.Since(start)
		if waited >= wait {
			f.Close()
			return nil, &InUseError{Path: path, Holder: readHolder(lockPath), Waited: wait}
		}
		if !announced && waiting != nil {
			fmt.Fprintf(waiting, "waiting for %s to finish with %s (up to %s) ...\n", readHolder(lockPath), path, wait)
			announced = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock database %s: %w", path, ctx.Err())
		case <-time.After(min(lockPollInterval, wait-waited)):
		}
	}
	if canRecord {
		// Best effort: the record only names the holder in messages.
		holder, _ := json.Marshal(LockHolder{PID: os.Getpid(), Command: command, Write: write})
		if f.Truncate(0) == nil {
			f.WriteAt(append(holder, '\n'), 0)
		}
	}
	return &fileLock{f: f}, nil
}

// ReadLockHolder reads the holder recorded in the lock file of the database
// at path; the zero holder when there is none to read.
func ReadLockHolder(path string) LockHolder { return readHolder(LockPath(path)) }

// readHolder reads the holder recorded in a lock file; the zero holder when
// there is none to read.
func readHolder(lockPath string) LockHolder {
	var h LockHolder
	b, err := os.ReadFile(lockPath)
	if err == nil {
		json.Unmarshal(b, &h)
	}
	return h
}
