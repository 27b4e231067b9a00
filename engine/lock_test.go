package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// flock locks belong to an open file, not a process, so two Opens in one
// process contend as two processes would. cmd/socq's scripts check two real
// processes.

func TestLockWriterExcludesOthers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.duckdb")
	w, err := Open(ctx, path, Options{Command: "ingest"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	holder := fmt.Sprintf("socq ingest, pid %d", os.Getpid())

	for _, c := range []struct {
		name string
		opts Options
		want string
	}{
		{"second writer, no wait", Options{Command: "incident", LockWait: -1},
			"database " + path + " is in use by " + holder},
		{"reader, short wait", Options{ReadOnly: true, Command: "query", LockWait: 150 * time.Millisecond},
			"database " + path + " is in use by " + holder + " (waited 150ms; set SOCQ_LOCK_WAIT to wait longer)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var waiting bytes.Buffer
			c.opts.Waiting = &waiting
			start := time.Now()
			db, err := Open(ctx, path, c.opts)
			if err == nil {
				db.Close()
				t.Fatal("opened a database another writer holds")
			}
			var inUse *InUseError
			if !errors.As(err, &inUse) || err.Error() != c.want {
				t.Fatalf("err = %v (%T), want %q", err, err, c.want)
			}
			if inUse.Holder.PID != os.Getpid() || inUse.Holder.Command != "ingest" || !inUse.Holder.Write {
				t.Errorf("holder = %+v", inUse.Holder)
			}
			if c.opts.LockWait > 0 {
				if d := time.Since(start); d < c.opts.LockWait {
					t.Errorf("gave up after %v, want %v", d, c.opts.LockWait)
				}
				want := "waiting for " + holder + " to finish with " + path + " (up to 150ms) ...\n"
				if waiting.String() != want {
					t.Errorf("waiting line %q, want %q", waiting.String(), want)
				}
			} else if waiting.Len() > 0 {
				t.Errorf("no wait, but printed %q", waiting.String())
			}
		})
	}
}

func TestLockReadersShare(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.duckdb")
	w, err := Open(ctx, path, Options{Command: "ingest"})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	r1, err := Open(ctx, path, Options{ReadOnly: true, Command: "query", LockWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Open(ctx, path, Options{ReadOnly: true, Command: "query", LockWait: -1})
	if err != nil {
		t.Fatalf("a second reader: %v", err)
	}
	_, err = Open(ctx, path, Options{Command: "ingest", LockWait: -1})
	want := fmt.Sprintf("database %s is in use by socq query, pid %d", path, os.Getpid())
	if err == nil || err.Error() != want {
		t.Fatalf("writer while readers hold it: err = %v, want %q", err, want)
	}
	r1.Close()
	r2.Close()
	w, err = Open(ctx, path, Options{Command: "ingest", LockWait: -1})
	if err != nil {
		t.Fatalf("writer after the readers closed: %v", err)
	}
	w.Close()
}

func TestLockWaitsForTheHolder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.duckdb")
	w, err := Open(ctx, path, Options{Command: "ingest"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(ctx, `INSERT INTO "SecurityIncident" ("IncidentName") VALUES ('first')`); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		w.Close()
	}()
	var waiting bytes.Buffer
	start := time.Now()
	w2, err := Open(ctx, path, Options{Command: "ingest", LockWait: time.Minute, Waiting: &waiting})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("opened after %v, while the first writer held the lock", d)
	}
	if !strings.HasPrefix(waiting.String(), "waiting for socq ingest, pid ") || strings.Count(waiting.String(), "\n") != 1 {
		t.Errorf("waiting output %q, want one line", waiting.String())
	}
	// The first writer's row is there: it closed before the second opened.
	rows, err := w2.Probe(ctx)(`SELECT "IncidentName" FROM "SecurityIncident"`)
	if err != nil || len(rows) != 1 || rows[0][0] != "first" {
		t.Errorf("rows %v, %v", rows, err)
	}
}

func TestLockWaitCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.duckdb")
	w, err := Open(context.Background(), path, Options{Command: "serve"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = Open(ctx, path, Options{Command: "ingest", LockWait: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's error", err)
	}
}

func TestLockWaitFromEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.duckdb")
	w, err := Open(context.Background(), path, Options{Command: "serve"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, c := range []struct{ env, want string }{
		{"10ms", fmt.Sprintf("database %s is in use by socq serve, pid %d (waited 10ms; set SOCQ_LOCK_WAIT to wait longer)", path, os.Getpid())},
		{"0s", fmt.Sprintf("database %s is in use by socq serve, pid %d", path, os.Getpid())},
		{"soon", `SOCQ_LOCK_WAIT="soon": want a duration such as 30s or 5m`},
		{"-1s", `SOCQ_LOCK_WAIT="-1s": want a duration such as 30s or 5m`},
	} {
		t.Setenv("SOCQ_LOCK_WAIT", c.env)
		_, err := Open(context.Background(), path, Options{ReadOnly: true, Command: "query"})
		if err == nil || err.Error() != c.want {
			t.Errorf("SOCQ_LOCK_WAIT=%s: err = %v, want %q", c.env, err, c.want)
		}
	}
}

func TestLockFileRecordsTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.duckdb")
	w, err := Open(context.Background(), path, Options{Command: "serve"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	got := readHolder(LockPath(path))
	if want := (LockHolder{PID: os.Getpid(), Command: "serve", Write: true}); got != want {
		t.Errorf("holder %+v, want %+v", got, want)
	}
	if got.String() != fmt.Sprintf("socq serve, pid %d", os.Getpid()) {
		t.Errorf("holder as text %q", got)
	}
	if (LockHolder{}).String() != "another socq process" {
		t.Errorf("unknown holder as text %q", LockHolder{})
	}
}

func TestInMemoryTakesNoLock(t *testing.T) {
	a, err := Open(context.Background(), "", Options{LockWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(context.Background(), "", Options{LockWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}

func TestMemoryLimit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.duckdb")
	for _, c := range []struct {
		opt, env, def, want, wantErr string
	}{
		{def: "512MB", want: "488.2 MiB"},
		{opt: "100MB", def: "512MB", want: "95.3 MiB"},
		{env: "64MiB", def: "512MB", want: "64.0 MiB"},
		{opt: "100MB", want: "95.3 MiB"},
		{opt: "1GiB", env: "2GiB", want: "1.0 GiB"},
		{env: "64MiB", want: "64.0 MiB"},
		{opt: "lots", wantErr: `memory limit "lots": `},
	} {
		t.Setenv("SOCQ_MEMORY_LIMIT", c.env)
		db, err := Open(ctx, path, Options{MemoryLimit: c.opt, DefaultMemoryLimit: c.def})
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: err = %v, want %q", c.opt, err, c.wantErr)
			}
			if err == nil {
				db.Close()
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q/%q: %v", c.opt, c.env, err)
		}
		got, err := db.Setting(ctx, "memory_limit")
		if err != nil || got != c.want {
			t.Errorf("%q/%q: memory_limit = %q, %v; want %q", c.opt, c.env, got, err, c.want)
		}
		db.Close()
	}
}

func TestDuckDBLockErrorNamesTheProcess(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`IO Error: Could not set lock on file "/d/h.duckdb": Conflicting lock is held in /usr/bin/duckdb (PID 4321) by user root. See also https://duckdb.org/docs/connect/concurrency`,
			"database /d/h.duckdb is in use by duckdb, pid 4321 (not a socq command that waits its turn): try again when it has finished"},
		{`IO Error: Could not set lock on file "/d/h.duckdb": Resource temporarily unavailable`,
			"database /d/h.duckdb is in use by another process: try again when it has finished"},
		{`IO Error: something else`, `IO Error: something else`},
	} {
		if got := openError("/d/h.duckdb", errors.New(c.in)).Error(); got != c.want {
			t.Errorf("%s:\ngot  %s\nwant %s", c.in, got, c.want)
		}
	}
}
