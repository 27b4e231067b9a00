package loadtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadShort is the load test at a size a test run affords: 10 clients
// for 2 seconds, no error, no lost update.
func TestLoadShort(t *testing.T) {
	res, err := Run(context.Background(), Config{Clients: 10, Duration: 2 * time.Second, Incidents: 5, Dir: t.TempDir(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if msg := res.Failed(); msg != "" {
		t.Fatal(msg)
	}
	for _, op := range []string{OpRead, OpTask, OpQuery} {
		if s := res.ByOp[op]; s == nil || s.Count == 0 {
			t.Errorf("no %s requests ran", op)
		}
	}
	if res.Rows != res.WantRows || res.Rows <= 5*4 {
		t.Errorf("snapshot rows %d, want %d (more than the seeded 20)", res.Rows, res.WantRows)
	}
	md := res.Markdown(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
	for _, want := range []string{SectionStart, "| task |", "| all |", "0 errors, 0 lost updates", SectionEnd} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	t.Logf("\n%s", md)
}

func TestUpdateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	os.WriteFile(path, []byte("# Benchmarks\n\nother sections"), 0o644)
	sec := func(s string) string { return SectionStart + "\n" + s + "\n" + SectionEnd + "\n" }
	if err := UpdateFile(path, sec("first")); err != nil {
		t.Fatal(err)
	}
	if err := UpdateFile(path, sec("second")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "# Benchmarks\n\nother sections\n\n" + sec("second"); string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	os.WriteFile(path, []byte(SectionStart+"\nno end"), 0o644)
	if err := UpdateFile(path, sec("x")); err == nil || !strings.Contains(err.Error(), "no end marker") {
		t.Errorf("a section without its end marker: %v", err)
	}
}
