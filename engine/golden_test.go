package engine_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/ingest"
	"github.com/socq/socq/output"
	"github.com/socq/socq/parser"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/queries")

// goldenNow is now() in golden cases, so ago() gives the same answer every run.
var goldenNow = time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC)

// TestGolden runs every testdata/queries/<area>/<case>.txtar: query.kql is
// compiled (want.sql) and run on testdata/history/fixture.ndjson (want.csv),
// or must fail with want.err (the rendered error, caret and all).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/queries/*/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	ctx := context.Background()
	db := fixtureDB(t)
	staged := 0
	for _, file := range files {
		t.Run(caseName(file), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sections := map[string]string{}
			for _, f := range ar.Files {
				sections[f.Name] = string(f.Data)
			}
			query := strings.TrimSpace(sections["query.kql"])
			if query == "" {
				t.Fatal("no query.kql section")
			}
			got := map[string]string{}
			plan, err := compile(query, db)
			if err != nil {
				got["want.err"] = renderError(query, err)
			} else {
				got["want.sql"] = plan.SQL + "\n"
				got["want.csv"] = runCSV(t, db, plan)
			}
			if *update {
				writeGolden(t, file, ar, got)
				return
			}
			for _, section := range []string{"want.err", "want.sql", "want.csv"} {
				want, haveWant := sections[section]
				if got[section] == "" && !haveWant {
					continue
				}
				if got[section] != want {
					t.Errorf("%s differs\n--- got ---\n%s--- want ---\n%s", section, got[section], want)
				}
			}
			if checkStaged(t, db, query, got) {
				staged++
			}
		})
	}
	if !*update && staged < 3 {
		t.Errorf("only %d golden cases staged bag_unpack's input: the staged path is hardly tested", staged)
	}
	rows, err := db.Probe(ctx)("SELECT table_name FROM duckdb_tables() WHERE temporary")
	if err != nil || len(rows) > 0 {
		t.Errorf("temporary tables left after the golden cases: %v %v", rows, err)
	}
}

// checkStaged compiles query as socq query does, with a Stager, and checks
// that it gives what the golden case wants: the same rows (the SQL differs
// when bag_unpack's input is staged) or the same error. It reports whether
// the query staged a table.
func checkStaged(t *testing.T, db *engine.DB, query string, want map[string]string) bool {
	t.Helper()
	ctx := context.Background()
	q, err := parser.Parse(query)
	if err != nil {
		return false
	}
	plan, err := engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{Now: goldenNow, Probe: db.Probe(ctx), Stager: db.Stager(ctx)})
	if err != nil {
		if got := renderError(query, err); got != want["want.err"] {
			t.Errorf("staged: the error differs\n--- got ---\n%s--- want ---\n%s", got, want["want.err"])
		}
		return false
	}
	staged := len(plan.Staged) > 0
	if got := runCSV(t, db, plan); got != want["want.csv"] {
		t.Errorf("staged: the rows differ\n--- got ---\n%s--- want ---\n%s", got, want["want.csv"])
	}
	return staged
}

// runCSV runs plan on db and returns its result as CSV.
func runCSV(t *testing.T, db *engine.DB, plan *engine.Plan) string {
	t.Helper()
	var out bytes.Buffer
	w, _ := output.New(&out, "csv", plan.Columns)
	if err := db.Query(context.Background(), plan, w.Row); err != nil {
		t.Fatalf("DuckDB rejected the compiled SQL: %v\n%s", err, plan.SQL)
	}
	w.Close()
	return out.String()
}

// goldenQuery is the query of one golden case, named <area>/<case>.
type goldenQuery struct{ name, query string }

// goldenQueries reads the query.kql of every golden case, for the fuzz seed
// corpus and the benchmark.
func goldenQueries(tb testing.TB) []goldenQuery {
	tb.Helper()
	files, err := filepath.Glob("../testdata/queries/*/*.txtar")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden cases found: %v", err)
	}
	var out []goldenQuery
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range ar.Files {
			if f.Name == "query.kql" {
				out = append(out, goldenQuery{caseName(file), strings.TrimSpace(string(f.Data))})
			}
		}
	}
	return out
}

func caseName(file string) string {
	return strings.TrimSuffix(strings.TrimPrefix(file, "../testdata/queries/"), ".txtar")
}

func compile(query string, db *engine.DB) (*engine.Plan, error) {
	q, err := parser.Parse(query)
	if err != nil {
		return nil, err
	}
	return engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{Now: goldenNow, Probe: db.Probe(context.Background())})
}

func renderError(query string, err error) string {
	if perr, ok := err.(*parser.Error); ok {
		return perr.Render(query)
	}
	return "error: " + err.Error() + "\n"
}

func writeGolden(t *testing.T, file string, ar *txtar.Archive, got map[string]string) {
	t.Helper()
	var files []txtar.File
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "want.") {
			files = append(files, f)
		}
	}
	for _, section := range []string{"want.err", "want.sql", "want.csv"} {
		if got[section] != "" {
			files = append(files, txtar.File{Name: section, Data: []byte(got[section])})
		}
	}
	ar.Files = files
	if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixtureDB is an in-memory database holding testdata/history/fixture.ndjson.
func fixtureDB(t testing.TB) *engine.DB {
	t.Helper()
	ctx := context.Background()
	db, err := engine.Open(ctx, "", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f, err := os.Open("../testdata/history/fixture.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := ingest.Reader(ctx, db, "fixture.ndjson", f)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rejects) > 0 || rep.Files[0].Added != 19 {
		t.Fatalf("fixture did not load cleanly: %+v", rep)
	}
	return db
}

// failingStager cannot make tables, as a database out of memory would.
type failingStager struct{}

func (failingStager) Stage(string) (string, error) { return "", errors.New("out of memory") }
func (failingStager) Drop(string) error            { return nil }

// TestStagingFailureFallsBack: a table that cannot be made leaves the query
// as it would be without staging (it is only an optimisation).
func TestStagingFailureFallsBack(t *testing.T) {
	ctx := context.Background()
	db := fixtureDB(t)
	ar, err := txtar.ParseFile("../testdata/queries/evaluate/bag-unpack-then-star-and-project.txtar")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	for _, f := range ar.Files {
		sections[f.Name] = string(f.Data)
	}
	q, err := parser.Parse(sections["query.kql"])
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{Now: goldenNow, Probe: db.Probe(ctx), Stager: failingStager{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Staged) > 0 {
		t.Fatalf("staged %q with a failing Stager", plan.Staged)
	}
	if got := runCSV(t, db, plan); got != sections["want.csv"] {
		t.Errorf("rows differ\n--- got ---\n%s--- want ---\n%s", got, sections["want.csv"])
	}
}
