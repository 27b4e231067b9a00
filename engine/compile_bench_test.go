package engine_test

import (
	"sort"
	"testing"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/parser"
)

// BenchmarkParseCompile parses and compiles each golden query that compiles
// without data (bag_unpack needs the database, so those are left out),
// logs the time per query (-v) and reports the median over all queries.
// Target: the median stays under 100 µs.
func BenchmarkParseCompile(b *testing.B) {
	type timing struct {
		name string
		us   float64
	}
	var queries []string
	var names []string
	for _, g := range goldenQueries(b) {
		if _, err := compileWithoutData(g.query); err == nil {
			queries = append(queries, g.query)
			names = append(names, g.name)
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
