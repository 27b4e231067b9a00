package ingest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/gen"
)

// BenchmarkIngestVsReadJSON loads a Log Analytics NDJSON export with Files
// and, interleaved, with DuckDB's own read_json into a table of the same
// schema, and reports the median of the per-round time ratios.
//
// SOCQ_BENCH_MB sets the file size (default 200), SOCQ_BENCH_ROUNDS the
// number of rounds (default 5).
func BenchmarkIngestVsReadJSON(b *testing.B) {
	size := envInt(b, "SOCQ_BENCH_MB", 200) << 20
	rounds := envInt(b, "SOCQ_BENCH_ROUNDS", 5)
	dir := b.TempDir()
	path := filepath.Join(dir, "history.ndjson")
	writeSampleNDJSON(b, path, int64(size))
	ctx := context.Background()

	var ratios, ours, theirs []float64
	for b.Loop() {
		for round := range rounds {
			run := func(name string, load func(db string)) float64 {
				db := filepath.Join(dir, name+".duckdb")
				os.Remove(db)
				os.Remove(db + ".wal")
				start := time.Now()
				load(db)
				return time.Since(start).Seconds()
			}
			ingest := func(db string) {
				rep, err := Files(ctx, db, []string{path}, Options{})
				if err != nil || len(rep.Rejects) > 0 {
					b.Fatalf("ingest: %v, %d rejects", err, len(rep.Rejects))
				}
			}
			readJSON := func(db string) { readJSONInto(b, ctx, db, path) }
			var a, t float64
			if round%2 == 0 {
				a, t = run("ingest", ingest), run("read_json", readJSON)
			} else {
				t, a = run("read_json", readJSON), run("ingest", ingest)
			}
			b.Logf("round %d: ingest %.2fs, read_json %.2fs", round, a, t)
			ours, theirs = append(ours, a), append(theirs, t)
			ratios = append(ratios, a/t)
		}
	}
	b.ReportMetric(median(ratios), "x-vs-read_json")
	b.ReportMetric(median(ours)*1000, "ms/ingest")
	b.ReportMetric(median(theirs)*1000, "ms/read_json")
}

// readJSONInto is the yardstick: DuckDB reading the file straight into the
// SecurityIncident table with read_json and the columns' own types.
func readJSONInto(tb testing.TB, ctx context.Context, dbPath, path string) {
	db, err := engine.Open(ctx, dbPath, engine.Options{ReadPaths: []string{path}})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	table := engine.SecurityIncident()
	cols := make([]string, len(table.Columns))
	for i, c := range table.Columns {
		cols[i] = engine.QuoteString(c.Name) + ": " + engine.QuoteString(c.Type.SQLType())
	}
	err = db.Tx(ctx, func(tx *engine.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO "SecurityIncident" SELECT * FROM read_json(`+engine.QuoteString(path)+
			`, format = 'newline_delimited', records = true, auto_detect = false, columns = {`+strings.Join(cols, ", ")+`})`)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// writeSampleNDJSON writes gen's history of about size bytes to path. The
// number of incidents comes from the size of a small history of the same
// seed, so a size always gives the same file.
func writeSampleNDJSON(tb testing.TB, path string, size int64) {
	const seed, probe = 1, 500
	sample := &gen.Counter{W: io.Discard}
	if err := gen.Write(sample, gen.Options{Incidents: probe, Seed: seed}); err != nil {
		tb.Fatal(err)
	}
	incidents := max(1, int(size*probe/sample.Bytes))

	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	cw := &gen.Counter{W: f}
	if err := gen.Write(cw, gen.Options{Incidents: incidents, Seed: seed}); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("%s: %d incidents, %d rows, %d MB", path, incidents, cw.Lines, cw.Bytes>>20)
}

func envInt(tb testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
