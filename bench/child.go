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
	case "measure":
		if len(args) < 2 {
			return true, fmt.Errorf("measure child: want ENV NAME ARGS..., got %q", args)
		}
		return true, measure(args[0], args[1], args[2:]...)
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

// runProcess runs a command with its output discarded and measures it.
//
// The measuring is done by a launcher, this binary re-executed in the
// "measure" mode, because Go starts a child with vfork: until the child
// execs it shares the parent's memory, and Linux then counts the parent's
// peak resident memory as the child's. The bench process holds gigabytes
// after the in-process queries, so measured directly every child would
// "peak" there; the launcher is small, so its children's figures are their
// own (within the launcher's ~20 MB).
func runProcess(ctx context.Context, env []string, name string, args ...string) (processRun, error) {
	self, err := os.Executable()
	if err != nil {
		return processRun{}, err
	}
	cmd := exec.CommandContext(ctx, self, append([]string{strings.Join(env, "\n"), name}, args...)...)
	cmd.Env = append(os.Environ(), childEnv+"=measure")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return processRun{}, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var run processRun
	var wall int64
	if _, err := fmt.Sscan(stdout.String(), &wall, &run.maxRSS); err != nil {
		return processRun{}, fmt.Errorf("measure %s: %q: %v", name, stdout.String(), err)
	}
	run.wall = time.Duration(wall)
	return run, nil
}

// measure is the launcher's side of runProcess: run NAME ARGS with the
// extra environment (one VAR=VALUE a line), output discarded, and print
// its wall time (ns) and peak resident memory (bytes).
func measure(env string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, childEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if env != "" {
		cmd.Env = append(cmd.Env, strings.Split(env, "\n")...)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024 // Linux reports kilobytes
	}
	fmt.Println(wall.Nanoseconds(), rss)
	return nil
}

// childCommand returns the command line that re-executes this binary in a
// child mode.
func childCommand(mode string) (env []string, exe string, err error) {
	exe, err = os.Executable()
	return []string{childEnv + "=" + mode}, exe, err
}
