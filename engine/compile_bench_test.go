package engine_test

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/parser"
)

// BenchmarkParseCompile parses and compiles each golden query that compiles
// without data (bag_unpack needs the database, so those are left out),
// logs the time per query (-v) and reports the median over all queries.
// Target: the median stays under 100 µs.
func BenchmarkParseCompile(b *testing.B) {
	files, _ := filepath.Glob("../testdata/queries/*/*.txtar")
	type timing struct {
		name string
		us   float64
	}
	var queries []string
	var names []string
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range ar.Files {
			if f.Name == "query.kql" {
				if _, err := compileWithoutData(string(f.Data)); err == nil {
					queries = append(queries, string(f.Data))
					names = append(names, strings.TrimSuffix(strings.TrimPrefix(file, "../testdata/queries/"), ".txtar"))
				}
			}
		}
	}
	const rounds = 50
	var timings []timing
	for b.Loop() {
		timings = timings[:0]
		for i, q := range queries {
			start := time.Now()
			for range rounds {
				if _, err := compileWithoutData(q); err != nil {
					b.Fatal(err)
				}
			}
			timings = append(timings, timing{names[i], float64(time.Since(start).Microseconds()) / rounds})
		}
	}
	sort.Slice(timings, func(i, j int) bool { return timings[i].us < timings[j].us })
	for _, t := range timings {
		b.Logf("%8.1f µs  %s", t.us, t.name)
	}
	b.ReportMetric(timings[len(timings)/2].us, "median-µs/query")
}

func compileWithoutData(query string) (*engine.Plan, error) {
	q, err := parser.Parse(query)
	if err != nil {
		return nil, err
	}
	return engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{Now: goldenNow})
}
