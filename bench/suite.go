package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/gen"
	"github.com/socq/socq/parser"
)

// sizePoint is one history size of the scaling measurements: the first
// rows lines of the generated export (rows are in time order, so a prefix
// is the history up to some moment).
type sizePoint struct {
	rows  int
	bytes int64
	path  string // the NDJSON prefix
	db    string // socq's database of it

	socqIngest, readJSON []processRun
	// queries[name] are the timings of the scaling queries on this size.
	queries map[string]*comparison
}

// comparison is socq against hand-written SQL for one query on one
// database.
type comparison struct {
	query     benchQuery
	rows      int
	socq, sql []time.Duration
	mismatch  string // "" when the results are equal
	compile   time.Duration
}

// ratio is the median of the repetitions' socq/SQL ratios: each pair ran
// back to back, under the same load.
func (c *comparison) ratio() float64 { return pairedRatio(c.socq, c.sql) }

func pairedRatio(a, b []time.Duration) float64 {
	var rs []float64
	for i := range min(len(a), len(b)) {
		rs = append(rs, seconds(a[i])/seconds(b[i]))
	}
	return median(rs)
}

// endToEnd is the cold-process measurement of one query.
type endToEnd struct {
	query                   benchQuery
	socq, compiled, handSQL []processRun
}

// report is everything one run measured.
type report struct {
	cfg         config
	started     time.Time
	elapsed     time.Duration
	cpu         time.Duration // user + system time of the run and its child processes
	machine     machine
	rows        int   // snapshot rows in the history
	bytes       int64 // NDJSON size
	sizes       []*sizePoint
	querySize   *sizePoint // the size the whole query suite runs on
	queries     []*comparison
	e2e         endToEnd
	memoryLimit string
	threads     string
	duckdb      string
}

func run(ctx context.Context, cfg config) (*report, error) {
	rep := &report{cfg: cfg, started: time.Now(), machine: describeMachine()}
	dir, err := os.MkdirTemp("", "socq-bench-")
	if err != nil {
		return nil, err
	}
	if cfg.keep {
		cfg.log("keeping %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	// The history, and its prefixes for the scaling points.
	history := filepath.Join(dir, "history.ndjson")
	cfg.log("generating %d incidents over %d days", cfg.incidents, cfg.days)
	if rep.rows, rep.bytes, err = writeHistory(history, gen.Options{Incidents: cfg.incidents, Seed: cfg.seed, Days: cfg.days}); err != nil {
		return nil, err
	}
	cfg.log("history: %d rows, %.0f MB", rep.rows, float64(rep.bytes)/1e6)
	for i, n := range scalePoints(rep.rows) {
		p := &sizePoint{rows: n, path: history, db: filepath.Join(dir, fmt.Sprintf("socq-%d.duckdb", i)), queries: map[string]*comparison{}}
		if n < rep.rows {
			p.path = filepath.Join(dir, fmt.Sprintf("prefix-%d.ndjson", n))
			if p.bytes, err = writePrefix(history, p.path, n); err != nil {
				return nil, err
			}
		} else {
			p.bytes = rep.bytes
		}
		rep.sizes = append(rep.sizes, p)
	}

	cfg.log("building socq")
	socqBin := filepath.Join(dir, "socq")
	build := exec.CommandContext(ctx, "go", "build", "-o", socqBin, "github.com/socq/socq/cmd/socq")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build socq: %v\n%s", err, out)
	}

	// 1 and 4: ingest against read_json, each in its own process, at every
	// size; the last socq database of each size stays for the queries.
	env, self, err := childCommand("read_json")
	if err != nil {
		return nil, err
	}
	full := rep.sizes[len(rep.sizes)-1]
	for _, p := range rep.sizes {
		for r := range cfg.repsAt(p == full) {
			theirs := filepath.Join(dir, "read_json.duckdb")
			ours := func() error {
				removeDB(p.db)
				run, err := runProcess(ctx, []string{"CI=true"}, socqBin, "ingest", "--db", p.db, p.path)
				p.socqIngest = append(p.socqIngest, run)
				return err
			}
			yardstick := func() error {
				removeDB(theirs)
				run, err := runProcess(ctx, env, self, theirs, p.path)
				p.readJSON = append(p.readJSON, run)
				removeDB(theirs)
				return err
			}
			if err := interleave(r, ours, yardstick); err != nil {
				return nil, fmt.Errorf("ingest %d rows: %w", p.rows, err)
			}
		}
		cfg.log("ingest %d rows: socq %v, read_json %v", p.rows, median(walls(p.socqIngest)), median(walls(p.readJSON)))
	}

	// 2 and 3: every query on the middle size (the 1/10 prefix), where
	// enough repetitions fit in the time; 4: the scaling queries at every
	// size, the whole history included.
	rep.querySize = rep.sizes[max(0, len(rep.sizes)-2)]
	var suite []benchQuery
	for _, p := range rep.sizes {
		db, err := engine.Open(ctx, p.db, engine.Options{ReadOnly: true})
		if err != nil {
			return nil, err
		}
		if suite == nil {
			incident, err := incidentWithTasks(ctx, db)
			if err != nil {
				db.Close()
				return nil, err
			}
			suite = queries(incident)
		}
		qs := suite
		if p != rep.querySize {
			qs = nil
			for _, name := range scalingQueries {
				qs = append(qs, queryByName(suite, name))
			}
		}
		if p == full {
			rep.memoryLimit, rep.threads, rep.duckdb, err = settings(ctx, db)
		}
		var cs []*comparison
		if err == nil {
			cs, err = compare(ctx, db, qs, cfg.repsAt(p == full), cfg.log)
		}
		if err == nil && p == rep.querySize {
			rep.queries = cs
			err = compileTimes(ctx, db, cs)
		}
		db.Close()
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			p.queries[c.query.name] = c
		}
		cfg.log("queries at %d rows done", p.rows)
	}

	// 5 (and the heaviest query's peak memory): cold processes on the whole
	// history.
	if rep.e2e, err = coldRuns(ctx, cfg, dir, socqBin, full.db, queryByName(suite, heaviestQuery)); err != nil {
		return nil, err
	}
	rep.elapsed = time.Since(rep.started)
	rep.cpu = cpuTime()
	rep.machine.loadavg = describeMachine().loadavg // at the end of the run
	return rep, nil
}

// scalePoints are 1/100, 1/10 and all of the rows (fewer when the history
// is too small to tell them apart).
func scalePoints(rows int) []int {
	var points []int
	for _, n := range []int{rows / 100, rows / 10, rows} {
		if n > 0 && !slices.Contains(points, n) {
			points = append(points, n)
		}
	}
	return points
}

// interleave runs two contenders, alternating which goes first.
func interleave(rep int, a, b func() error) error {
	if rep%2 == 1 {
		a, b = b, a
	}
	if err := a(); err != nil {
		return err
	}
	return b()
}

func removeDB(path string) {
	os.Remove(path)
	os.Remove(path + ".wal")
	os.Remove(path + ".rejects.ndjson")
}

// writeHistory generates the history and counts its rows and bytes.
func writeHistory(path string, opts gen.Options) (int, int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	cw := &gen.Counter{W: f} // gen.Write buffers its output
	err = gen.Write(cw, opts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return cw.Lines, cw.Bytes, err
}

// writePrefix copies the first n lines of src to dst.
func writePrefix(src, dst string, n int) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriterSize(out, 1<<20)
	var size int64
	for range n {
		line, err := r.ReadBytes('\n')
		if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
			out.Close()
			return 0, fmt.Errorf("prefix of %s: %w", src, err)
		}
		w.Write(line)
		size += int64(len(line))
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return 0, err
	}
	return size, out.Close()
}

// settings reads DuckDB's memory limit, thread count and version.
func settings(ctx context.Context, db *engine.DB) (limit, threads, version string, err error) {
	err = db.QueryTrustedSQL(ctx, `SELECT current_setting('memory_limit'), current_setting('threads')::VARCHAR, version()`, func(row []any) error {
		limit, threads, version = fmt.Sprint(row[0]), fmt.Sprint(row[1]), fmt.Sprint(row[2])
		return nil
	})
	return limit, threads, version, err
}

// incidentWithTasks picks the incident the audit article's second query
// looks at: the middle one of those with tasks.
func incidentWithTasks(ctx context.Context, db *engine.DB) (int, error) {
	n := -1
	err := db.QueryTrustedSQL(ctx, `SELECT CAST(quantile_disc("IncidentNumber", 0.5) AS BIGINT) FROM "SecurityIncident" WHERE json_array_length("Tasks") > 0`, func(row []any) error {
		if v, ok := row[0].(int64); ok {
			n = int(v)
		}
		return nil
	})
	if err == nil && n < 0 {
		err = errors.New("no incident in the history has tasks")
	}
	return n, err
}

// runKQL is socq answering a query as socq query does: parse, compile
// (asking the database what bag_unpack needs, bag_unpack's input staged in
// a temporary table), execute, every row fetched and converted. each sees
// every row.
func runKQL(ctx context.Context, db *engine.DB, text string, each func([]engine.Column, []any) error) error {
	q, err := parser.Parse(text)
	if err != nil {
		return err
	}
	plan, err := engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{Probe: db.Probe(ctx), Stager: db.Stager(ctx)})
	if err != nil {
		return err
	}
	return db.Query(ctx, plan, func(row []any) error { return each(plan.Columns, row) })
}

// compare checks that socq and the SQL give the same rows, then times both,
// interleaved, reps times.
func compare(ctx context.Context, db *engine.DB, qs []benchQuery, reps int, log func(string, ...any)) ([]*comparison, error) {
	var out []*comparison
	for _, q := range qs {
		c := &comparison{query: q}
		var cols []engine.Column
		var ours, theirs result
		err := runKQL(ctx, db, q.kql, func(cs []engine.Column, row []any) error {
			cols = cs
			s, err := canonRow(cs, row)
			ours = append(ours, s)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("%s: socq: %w", q.name, err)
		}
		if cols == nil { // no rows: the column types come from compiling
			parsed, _ := parser.Parse(q.kql)
			plan, err := engine.Compile(parsed, engine.DefaultCatalog(), engine.CompileOptions{Probe: db.Probe(ctx)})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", q.name, err)
			}
			cols = plan.Columns
		}
		err = db.QueryTrustedSQL(ctx, q.sql, func(row []any) error {
			if len(row) != len(cols) {
				return fmt.Errorf("SQL returns %d columns, socq %d", len(row), len(cols))
			}
			s, err := canonRow(cols, row)
			theirs = append(theirs, s)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("%s: SQL: %w", q.name, err)
		}
		c.rows = len(ours)
		c.mismatch = equalResults(ours, theirs)
		out = append(out, c)
	}
	for r := range reps {
		for i, c := range out {
			ours := func() error {
				start := time.Now()
				err := runKQL(ctx, db, c.query.kql, func([]engine.Column, []any) error { return nil })
				c.socq = append(c.socq, time.Since(start))
				return err
			}
			theirs := func() error {
				start := time.Now()
				err := db.QueryTrustedSQL(ctx, c.query.sql, func([]any) error { return nil })
				c.sql = append(c.sql, time.Since(start))
				return err
			}
			if err := interleave(r+i, ours, theirs); err != nil {
				return nil, fmt.Errorf("%s: %w", c.query.name, err)
			}
			if r == reps-1 {
				log("%-22s socq %8.1f ms  SQL %8.1f ms  ratio %.2f", c.query.name, ms(median(c.socq)), ms(median(c.sql)), c.ratio())
			}
		}
	}
	return out, nil
}

// compileTimes measures parse + type check + SQL generation of each query,
// with the database's answers for bag_unpack remembered so that only the
// compiler is timed: the median of 7 batches, each long enough to time.
func compileTimes(ctx context.Context, db *engine.DB, cs []*comparison) error {
	for _, c := range cs {
		probe := db.Probe(ctx)
		memo := map[string][][]any{}
		opts := engine.CompileOptions{Probe: func(q string) ([][]any, error) {
			if rows, ok := memo[q]; ok {
				return rows, nil
			}
			rows, err := probe(q)
			memo[q] = rows
			return rows, err
		}}
		once := func() error {
			q, err := parser.Parse(c.query.kql)
			if err != nil {
				return err
			}
			_, err = engine.Compile(q, engine.DefaultCatalog(), opts)
			return err
		}
		if err := once(); err != nil {
			return fmt.Errorf("%s: %w", c.query.name, err)
		}
		var batches []time.Duration
		for range 7 {
			n := 0
			start := time.Now()
			for time.Since(start) < 20*time.Millisecond {
				once()
				n++
			}
			batches = append(batches, time.Since(start)/time.Duration(n))
		}
		c.compile = median(batches)
	}
	return nil
}

// coldRuns times fresh processes answering q on the database: socq query
// (CSV to a pipe that is discarded), and DuckDB running the SQL socq
// compiles the query to, every row fetched.
func coldRuns(ctx context.Context, cfg config, dir, socqBin, dbPath string, q benchQuery) (endToEnd, error) {
	e := endToEnd{query: q}
	kqlFile := filepath.Join(dir, q.name+".kql")
	compiledFile := filepath.Join(dir, q.name+".compiled.sql")
	if err := os.WriteFile(kqlFile, []byte(q.kql), 0o644); err != nil {
		return e, err
	}
	explain, err := exec.CommandContext(ctx, socqBin, "query", "--db", dbPath, "--explain", "-f", kqlFile).Output()
	if err != nil {
		return e, fmt.Errorf("socq query --explain: %w", err)
	}
	if err := os.WriteFile(compiledFile, bytes.TrimSuffix(bytes.TrimSpace(explain), []byte(";")), 0o644); err != nil {
		return e, err
	}
	env, self, err := childCommand("sql")
	if err != nil {
		return e, err
	}
	for r := range cfg.repsAt(true) {
		runs := []func() error{
			func() error {
				run, err := runProcess(ctx, []string{"CI=true"}, socqBin, "query", "--db", dbPath, "-o", "csv", "-f", kqlFile)
				e.socq = append(e.socq, run)
				return err
			},
			func() error {
				run, err := runProcess(ctx, env, self, dbPath, compiledFile)
				e.compiled = append(e.compiled, run)
				return err
			},
		}
		if err := interleave(r, runs[0], runs[1]); err != nil {
			return e, err
		}
	}
	cfg.log("cold %s: socq %v, compiled SQL %v", q.name, median(walls(e.socq)), median(walls(e.compiled)))
	return e, nil
}

func walls(runs []processRun) []time.Duration {
	out := make([]time.Duration, len(runs))
	for i, r := range runs {
		out[i] = r.wall
	}
	return out
}

func maxRSS(runs []processRun) int64 {
	var m int64
	for _, r := range runs {
		m = max(m, r.maxRSS)
	}
	return m
}

// median is the middle value of xs (the mean of the two middle ones for
// an even count), 0 for none: of durations and of ratios alike.
func median[T time.Duration | float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func seconds(d time.Duration) float64 { return d.Seconds() }
func ms(d time.Duration) float64      { return float64(d) / 1e6 }

// cpuTime is the user and system time of this process and of the child
// processes it waited for: the work the run did, whatever else the
// machine was running.
func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}
