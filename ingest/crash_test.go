package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socq/socq/engine"
)

// TestMain lets a test run this test binary as a child process that
// ingests one file: SOCQ_TEST_INGEST=DB:FILE. It prints the rows added.
func TestMain(m *testing.M) {
	if job := os.Getenv("SOCQ_TEST_INGEST"); job != "" {
		db, file, _ := strings.Cut(job, ":")
		rep, err := Files(context.Background(), db, []string{file}, Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(rep.Files[0].Added)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startIngest runs an ingest of file into db in a child process.
func startIngest(t *testing.T, db, file string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SOCQ_TEST_INGEST="+db+":"+file)
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// waitLocked waits until the child cmd holds the lock of the database db.
func waitLocked(t *testing.T, cmd *exec.Cmd, db string) time.Time {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if engine.ReadLockHolder(db).PID == cmd.Process.Pid {
			return time.Now()
		}
	}
	cmd.Process.Kill()
	t.Fatal("the child did not take the database's lock within a minute")
	return time.Time{}
}

// TestKillDuringIngest kills (SIGKILL) a child process in the middle of a
// large ingest, at several points of the load, and then reopens the
// database: it opens, the file's rows are all there or none, the rows
// loaded before are intact, and running the ingest again completes with
// every row once.
func TestKillDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a large file several times")
	}
	dir := t.TempDir()
	big := writeFile(t, dir, "big.ndjson", genNDJSON(7, 1500))
	earlier, err := filepath.Abs("../testdata/history/fixture.ndjson")
	if err != nil {
		t.Fatal(err)
	}

	// A whole load, timed from the moment the child holds the lock.
	full := filepath.Join(dir, "full.duckdb")
	cmd := startIngest(t, full, big)
	locked := waitLocked(t, cmd, full)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the whole load failed: %v", err)
	}
	duration := time.Since(locked)
	text := cmd.Stdout.(*bytes.Buffer).String()
	rows, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil || rows < 1000 {
		t.Fatalf("the whole load added %q rows", text)
	}
	t.Logf("a whole load of %d rows takes %v", rows, duration)

	for _, fraction := range []float64{0.1, 0.4, 0.7} {
		t.Run(fmt.Sprintf("killed at %.0f%%", fraction*100), func(t *testing.T) {
			// A load takes as long as the machine lets it: when the child
			// finishes before it is killed, try again earlier.
			var db string
			for attempt := 0; ; attempt++ {
				db = filepath.Join(t.TempDir(), "h.duckdb")
				if _, err := Files(context.Background(), db, []string{earlier}, Options{}); err != nil {
					t.Fatal(err)
				}
				cmd := startIngest(t, db, big)
				time.Sleep(time.Until(waitLocked(t, cmd, db).Add(time.Duration(fraction * float64(duration)))))
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				err := cmd.Wait()
				var exit *exec.ExitError
				if errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
					break
				}
				if attempt == 3 {
					t.Fatalf("the child ended on its own (%v) before it was killed, four times: make the input larger", err)
				}
				fraction /= 2
			}

			start := time.Now()
			got := countRows(t, db)
			t.Logf("after the kill: %d rows (reopened in %v)", got.rows, time.Since(start))
			if got.rows != 19 && got.rows != 19+rows {
				t.Errorf("after the kill: %d rows, want 19 (none of the file's) or %d (all)", got.rows, 19+rows)
			}
			if got.keys != got.rows || got.earlier != 19 {
				t.Errorf("after the kill: %+v", got)
			}
			rep, err := Files(context.Background(), db, []string{big}, Options{})
			if err != nil {
				t.Fatalf("ingest again: %v", err)
			}
			if s := rep.Files[0]; s.Added+s.AlreadyPresent != rows || s.Rejected != 0 {
				t.Errorf("ingest again: %+v", s)
			}
			t.Logf("ingested again in %v", time.Since(start))
			if got := countRows(t, db); got.rows != 19+rows || got.keys != got.rows || got.earlier != 19 {
				t.Errorf("after ingesting again: %+v, want %d rows", got, 19+rows)
			}
		})
	}
}

type rowCounts struct{ rows, keys, earlier int }

// countRows counts the rows of the database, their distinct keys, and the
// fixture's rows (the fixture's tenant is not gen's).
func countRows(t *testing.T, path string) rowCounts {
	t.Helper()
	got := queryDB(t, path, `SELECT count(*) || ' ' || count(DISTINCT ("IncidentName", "TimeGenerated", "LastModifiedTime")) || ' ' ||
		count(*) FILTER (WHERE "TenantId" = '5e0c7a2d-8b14-4f3e-9d61-2c7f0a9b4e18') FROM "SecurityIncident"`)
	var c rowCounts
	if len(got) != 1 {
		t.Fatalf("counts %q", got)
	}
	if _, err := fmt.Sscan(got[0], &c.rows, &c.keys, &c.earlier); err != nil {
		t.Fatalf("counts %q: %v", got, err)
	}
	return c
}
