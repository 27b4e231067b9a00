package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/socq/socq/engine"
)

// childEnv marks a re-executed bench binary as a child process: the
// measurements of peak memory and of a cold start need a process of their
// own. Its value is the mode; the arguments follow on the command line.
const childEnv = "SOCQ_BENCH_CHILD"

// runChild runs the child mode named by $SOCQ_BENCH_CHILD and reports
// whether there was one.
func runChild() (bool, error) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		return false, nil
	}
	args := os.Args[1:]
	ctx := context.Background()
	switch mode {
	case "read_json":
		if len(args) != 2 {
			return true, fmt.Errorf("read_json child: want DB FILE, got %q", args)
		}
		return true, readJSON(ctx, args[0], args[1])
	case "sql":
		if len(args) != 2 {
			return true, fmt.Errorf("sql child: want DB SQLFILE, got %q", args)
		}
		text, err := os.ReadFile(args[1])
		if err != nil {
			return true, err
		}
		db, err := engine.Open(ctx, args[0], engine.Options{ReadOnly: true})
		if err != nil {
			return true, err
		}
		defer db.Close()
		rows := 0
		err = db.QueryTrustedSQL(ctx, string(text), func([]any) error { rows++; return nil })
		if err == nil {
			fmt.Println(rows)
		}
		return true, err
	}
	return true, fmt.Errorf("unknown child mode %q", mode)
}

// readJSON is the yardstick for ingest: DuckDB's own read_json reading the
// NDJSON file straight into the SecurityIncident table, with the columns'
// own types, in one transaction.
func readJSON(ctx context.Context, dbPath, path string) error {
	db, err := engine.Open(ctx, dbPath, engine.Options{ReadPaths: []string{path}})
	if err != nil {
		return err
	}
	defer db.Close()
	table := engine.SecurityIncident()
	cols := make([]string, len(table.Columns))
	for i, c := range table.Columns {
		cols[i] = engine.QuoteString(c.Name) + ": " + engine.QuoteString(c.Type.SQLType())
	}
	return db.Tx(ctx, func(tx *engine.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO "SecurityIncident" SELECT * FROM read_json(`+engine.QuoteString(path)+
			`, format = 'newline_delimited', records = true, auto_detect = false, columns = {`+strings.Join(cols, ", ")+`})`)
		if err != nil {
			return fmt.Errorf("read_json: %w", err)
		}
		return nil
	})
}

// processRun is what one child process took: wall time and peak resident
// memory.
type processRun struct {
	wall   time.Duration
	maxRSS int64 // bytes
}

// runProcess runs a command with its output discarded (stderr is kept for
// the error message) and measures it.
func runProcess(ctx context.Context, env []string, name string, args ...string) (processRun, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return processRun{}, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	run := processRun{wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		run.maxRSS = ru.Maxrss * 1024 // Linux reports kilobytes
	}
	return run, nil
}

// childCommand returns the command line that re-executes this binary in a
// child mode.
func childCommand(mode string) (env []string, exe string, err error) {
	exe, err = os.Executable()
	return []string{childEnv + "=" + mode}, exe, err
}
