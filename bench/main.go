// Command bench measures socq against DuckDB on a generated SecurityIncident
// history and writes BENCHMARKS.md and a scaling chart.
//
//	go run ./bench [-incidents 100000] [-reps 3] [-out BENCHMARKS.md]
//
// Every figure is a ratio of two contenders measured side by side in one
// run, interleaved, as the median of several repetitions, because the
// machines it runs on are shared and noisy:
//
//  1. ingest: `socq ingest` of the NDJSON export against DuckDB's own
//     read_json into a table of the same schema, each in a fresh process;
//  2. queries: each realistic question as socq KQL (parse, compile, execute,
//     every row fetched) against hand-written DuckDB SQL on the same
//     database file, after checking that both give the same rows;
//  3. compile time of each query (parse, type check, SQL generation);
//  4. scaling: ingest and three queries at 1/100, 1/10 and all of the
//     history's rows, time per row, and peak memory of ingest and of the
//     heaviest query in their own processes;
//  5. end to end: a cold `socq query` process against the same SQL run
//     through DuckDB in a cold process.
//
// The history and the databases live in a temporary directory that is
// removed at the end; only the report and the chart are written.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"
)

// config is the command line.
type config struct {
	incidents int
	days      int
	seed      int64
	reps      int
	out       string // BENCHMARKS.md; "" writes no report
	chart     string // the SVG; "" writes none
	keep      bool   // keep the temporary directory (for a look at the databases)
	log       func(format string, args ...any)
}

// maxHeavyReps bounds the repetitions on the whole history (ingest, the
// scaling queries, cold processes), which take minutes each at 100 000
// incidents.
const maxHeavyReps = 2

// repsAt is the number of repetitions for a measurement on the whole
// history (heavy) or a smaller size.
func (c config) repsAt(heavy bool) int {
	if heavy {
		return min(c.reps, maxHeavyReps)
	}
	return c.reps
}

func main() {
	if ok, err := runChild(); ok {
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	cfg := config{}
	flag.IntVar(&cfg.incidents, "incidents", 100000, "incidents in the generated history (about 7 snapshot rows each)")
	flag.IntVar(&cfg.days, "days", 90, "days the history spans")
	flag.Int64Var(&cfg.seed, "seed", 1, "generator seed")
	flag.IntVar(&cfg.reps, "reps", 5, "repetitions of each measurement (the median is reported); at most 2 for the whole history's ingest, scaling queries and cold processes")
	flag.StringVar(&cfg.out, "out", "BENCHMARKS.md", "the report to write")
	flag.StringVar(&cfg.chart, "chart", "", "the scaling chart (SVG) to write (default: next to -out, BENCHMARKS-scaling.svg)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory with the history and the databases")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	if cfg.incidents < 1 || cfg.reps < 1 || cfg.days < 1 {
		fmt.Fprintln(os.Stderr, "bench: -incidents, -days and -reps must be at least 1")
		os.Exit(2)
	}
	if cfg.chart == "" && cfg.out != "" {
		cfg.chart = filepath.Join(filepath.Dir(cfg.out), "BENCHMARKS-scaling.svg")
	}
	start := time.Now()
	cfg.log = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := rep.write(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	cfg.log("done: %s", strings.Join(rep.summary(), "; "))
	if bad := rep.mismatches(); len(bad) > 0 {
		fmt.Fprintln(os.Stderr, "bench: results differ:\n"+strings.Join(bad, "\n"))
		os.Exit(1)
	}
}
