package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/gen"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"socq": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		// socq-exits N ARGS... runs socq ARGS and succeeds only if it exits
		// with code N, so scripts can check the documented exit codes.
		"socq-exits": func() {
			want, err := strconv.Atoi(os.Args[1])
			if err != nil {
				fmt.Fprintln(os.Stderr, "socq-exits: first argument must be the expected exit code")
				os.Exit(2)
			}
			if got := run(os.Args[2:], os.Stdin, os.Stdout, os.Stderr); got != want {
				fmt.Fprintf(os.Stderr, "socq-exits: exit code %d, want %d\n", got, want)
				os.Exit(1)
			}
			os.Exit(0)
		},
	})
}

// TestScripts runs the CLI scripts in testdata/script: the user's manual,
// executed against the real command with real files.
func TestScripts(t *testing.T) {
	history, err := filepath.Abs("../../testdata/history")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "../../testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HISTORY", history)
			env.Setenv("CI", "true")
			env.Setenv("SOCQ_DB", "")
			env.Setenv("XDG_DATA_HOME", filepath.Join(env.WorkDir, "data"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"gen":      cmdGen,
			"waitlock": cmdWaitLock,
			"sleep":    cmdSleep,
		},
	})
}

// cmdGen writes a generated history: gen INCIDENTS FILE.
func cmdGen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gen INCIDENTS FILE")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	f, err := os.Create(ts.MkAbs(args[1]))
	ts.Check(err)
	ts.Check(gen.Write(f, gen.Options{Incidents: n, Seed: 1}))
	ts.Check(f.Close())
}

// cmdWaitLock waits (up to a minute) until the lock file of database DB
// names a holder running COMMAND: waitlock DB COMMAND. Scripts use it to
// act while a background socq holds the database.
func cmdWaitLock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitlock DB COMMAND")
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if h := engine.ReadLockHolder(path); h.Command == args[1] && h.PID != os.Getpid() {
			return
		}
	}
	ts.Fatalf("no socq %s took the lock of %s within a minute", args[1], path)
}

// cmdSleep sleeps: sleep DURATION.
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}
