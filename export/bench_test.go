package export

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/gen"
	"github.com/socq/socq/ingest"
)

// BenchmarkExport exports a SecurityIncident table of SOCQ_BENCH_ROWS
// snapshot rows (default 1,000,000; generated at bench time from gen's
// history, copied with new incident names until the table is large enough)
// three ways, interleaved over SOCQ_BENCH_ROUNDS rounds (default 3):
//
//   - table: socq export --table SecurityIncident (DuckDB's COPY with the
//     nested, typed columns of engine.ExportSQL);
//   - query: socq export --query SecurityIncident (arrow-go's Parquet writer
//     fed by engine.DB.Query's rows);
//   - copy: DuckDB's own COPY "SecurityIncident" TO ... (FORMAT parquet),
//     the yardstick: the stored columns as they are, dynamic ones as JSON.
//
// It reports each one's median rows/s and the ratios to DuckDB's COPY.
func BenchmarkExport(b *testing.B) {
	rows := envInt(b, "SOCQ_BENCH_ROWS", 1_000_000)
	rounds := envInt(b, "SOCQ_BENCH_ROUNDS", 3)
	ctx := context.Background()
	dir := b.TempDir()
	dbPath := benchDB(b, dir, rows)

	copyTable := func(out string) {
		_, err := Atomic(out, false, func(tmp string) (int64, error) {
			db, err := engine.Open(ctx, dbPath, engine.Options{ReadOnly: true, WriteDir: filepath.Dir(tmp)})
			if err != nil {
				return 0, err
			}
			defer db.Close()
			return db.CopyParquet(ctx, `SELECT * FROM "SecurityIncident"`, tmp, engine.CopyOptions{})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	table := func(out string) {
		if _, err := Table(ctx, dbPath, engine.ExportSecurityIncident, out, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	query := func(out string) {
		db, err := engine.Open(ctx, dbPath, engine.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if _, err := Query(ctx, db, compile(b, ctx, db, "SecurityIncident"), out, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	ways := []struct {
		name string
		run  func(string)
	}{{"copy", copyTable}, {"table", table}, {"query", query}}
	times := map[string][]float64{}
	for b.Loop() {
		for round := range rounds {
			for i := range ways {
				w := ways[(i+round)%len(ways)] // interleaved, each first in turn
				out := filepath.Join(dir, w.name+".parquet")
				start := time.Now()
				w.run(out)
				s := time.Since(start).Seconds()
				fi, _ := os.Stat(out)
				b.Logf("round %d: %s %.2fs (%.0f rows/s, %d MB)", round, w.name, s, float64(rows)/s, fi.Size()>>20)
				times[w.name] = append(times[w.name], s)
			}
		}
	}
	for _, w := range ways {
		b.ReportMetric(float64(rows)/median(times[w.name]), "rows/s-"+w.name)
	}
	b.ReportMetric(median(times["table"])/median(times["copy"]), "x-table-vs-copy")
	b.ReportMetric(median(times["query"])/median(times["copy"]), "x-query-vs-copy")
}

// benchDB builds a database of n snapshot rows: gen's history, then copies
// of it under new incident names and numbers.
func benchDB(b *testing.B, dir string, n int) string {
	ctx := context.Background()
	path := filepath.Join(dir, "bench.duckdb")
	db, err := engine.Open(ctx, path, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var h bytes.Buffer
	if err := gen.Write(&h, gen.Options{Incidents: 500, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	rep, err := ingest.Reader(ctx, db, "bench", &h)
	if err != nil {
		b.Fatal(err)
	}
	base := rep.Files[0].Added
	copies := (n + base - 1) / base
	_, err = db.Exec(ctx, fmt.Sprintf(`INSERT INTO "SecurityIncident"
SELECT s.* REPLACE ("IncidentName" || '-' || r AS "IncidentName", "IncidentNumber" + CAST(r AS INTEGER) * 100000 AS "IncidentNumber")
FROM "SecurityIncident" AS s, range(1, %d) AS t(r)`, copies))
	if err != nil {
		b.Fatal(err)
	}
	// Exactly n rows.
	if _, err := db.Exec(ctx, fmt.Sprintf(`DELETE FROM "SecurityIncident" WHERE rowid >= %d`, n)); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d snapshot rows (%d generated, %d copies)", n, base, copies)
	return path
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
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
