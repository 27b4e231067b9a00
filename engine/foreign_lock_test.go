package engine

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
)

// TestMain lets a test run this binary as a process that is not socq but
// holds a database the way any DuckDB program does, without socq's lock
// file: SOCQ_TEST_HOLD_DUCKDB=PATH opens it for writing, prints "ready" and
// waits for its standard input to close.
func TestMain(m *testing.M) {
	if path := os.Getenv("SOCQ_TEST_HOLD_DUCKDB"); path != "" {
		connector, err := duckdb.NewConnector(path, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		db := sql.OpenDB(connector)
		if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS t (x INTEGER)`); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("ready")
		bufio.NewReader(os.Stdin).ReadString('\n')
		db.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestForeignProcessHoldingTheFile: a DuckDB program that is not socq holds
// the database; Open says so, naming it, instead of passing on DuckDB's lock
// error.
func TestForeignProcessHoldingTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.duckdb")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SOCQ_TEST_HOLD_DUCKDB="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("the holder said %q", line)
	}
	for _, opts := range []Options{{Command: "ingest"}, {ReadOnly: true, Command: "query"}} {
		_, err := Open(context.Background(), path, opts)
		want := "database " + path + " is in use by " + filepath.Base(os.Args[0]) + ", pid " + strconv.Itoa(cmd.Process.Pid) +
			" (not a socq command that waits its turn): try again when it has finished"
		if err == nil || err.Error() != want {
			t.Errorf("%+v: err = %v\nwant %s", opts, err, want)
		}
	}
}
