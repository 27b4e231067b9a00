package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socq/socq/engine"
)

// TestMain lets the test binary serve as the suite's child processes, as
// the bench binary does.
func TestMain(m *testing.M) {
	if ok, err := runChild(); ok {
		if err != nil {
			os.Stderr.WriteString("bench child: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSuiteSmall runs the whole suite on a tiny history, once: every query
// must give the same rows in socq and in its hand-written SQL, and the
// report and the chart must be written with every section. Timings are not
// checked.
func TestSuiteSmall(t *testing.T) {
	dir := t.TempDir()
	cfg := config{
		incidents: 400, days: 14, seed: 3, reps: 1,
		out:   filepath.Join(dir, "BENCHMARKS.md"),
		chart: filepath.Join(dir, "BENCHMARKS-scaling.svg"),
		log:   t.Logf,
	}
	rep, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if bad := rep.mismatches(); len(bad) > 0 {
		t.Fatalf("socq and the hand-written SQL differ:\n%s", strings.Join(bad, "\n"))
	}
	if len(rep.queries) < 12 {
		t.Errorf("%d queries, want at least 12", len(rep.queries))
	}
	for _, c := range rep.queries {
		if c.rows == 0 {
			t.Errorf("%s returned no rows: the comparison proves nothing", c.query.name)
		}
		if len(c.socq) != 1 || len(c.sql) != 1 || c.compile <= 0 {
			t.Errorf("%s: timings missing", c.query.name)
		}
	}
	if len(rep.sizes) != 3 {
		t.Errorf("%d scaling sizes, want 3", len(rep.sizes))
	}
	for _, s := range rep.sizes {
		for _, name := range scalingQueries {
			if s.queries[name] == nil {
				t.Errorf("no %s at %d rows", name, s.rows)
			}
		}
		if maxRSS(s.socqIngest) == 0 {
			t.Errorf("no peak RSS of ingest at %d rows", s.rows)
		}
	}
	if err := rep.write(cfg); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(cfg.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Targets", "## 1. Ingest", "## 2. Queries", "## 3. Compile time", "## 4. Scaling", "## 5. End to end", "BENCHMARKS-scaling.svg", "go run ./bench -incidents 400"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("BENCHMARKS.md lacks %q", want)
		}
	}
	svg, err := os.ReadFile(cfg.chart)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(svg), "<?xml") || !strings.Contains(string(svg), "<svg") || len(svg) > 100<<10 {
		t.Errorf("chart: %d bytes, want an SVG under 100 KB", len(svg))
	}
}

// TestEqualResults checks the comparison itself: order does not matter,
// values do.
func TestEqualResults(t *testing.T) {
	tests := []struct {
		a, b result
		same bool
	}{
		{result{"1", "2"}, result{"2", "1"}, true},
		{result{"1", "2"}, result{"1", "3"}, false},
		{result{"1"}, result{"1", "1"}, false},
		{nil, nil, true},
	}
	for _, tt := range tests {
		if got := equalResults(tt.a, tt.b) == ""; got != tt.same {
			t.Errorf("equalResults(%v, %v) same = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

func TestCanonValue(t *testing.T) {
	tests := []struct {
		v    any
		typ  string
		want string
	}{
		{nil, "string", `""`},
		{nil, "long", "null"},
		{int32(7), "long", "7"},
		{int64(7), "long", "7"},
		{7.0, "real", "7"},
		{1.0 / 3, "real", "0.333333333"},
		{`{"b":1,"a":[2]}`, "dynamic", `{"a":[2],"b":1}`},
		{"Sam Carter", "dynamic", `"Sam Carter"`},
		{`"Sam Carter"`, "dynamic", `"Sam Carter"`},
	}
	for _, tt := range tests {
		typ, ok := engine.TypeByName(tt.typ)
		if !ok {
			t.Fatalf("no type %s", tt.typ)
		}
		got, err := canonValue(tt.v, typ)
		if err != nil || got != tt.want {
			t.Errorf("canonValue(%#v, %s) = %q, %v; want %q", tt.v, tt.typ, got, err, tt.want)
		}
	}
}
