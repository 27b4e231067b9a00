package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/output"
	"github.com/socq/socq/parser"
)

// The corpus: testdata/corpus/*.kql are real public KQL queries over
// SecurityIncident (Sentinel workbooks, Microsoft's docs, people's query
// collections), each with its source in a comment. TestCorpus runs each one
// as `socq query` would — workbook parameters from its "// param: Name=Value"
// lines, then parse, compile and execute on the fixture history — and sorts
// it into one outcome:
//
//	ran            it ran; the row count, a digest of the result (rows in
//	               any order) and the columns are recorded
//	unknown-table  it names a table socq does not have (SecurityAlert, …)
//	rejected       an error that names the construct and points at it
//	CRASH          a panic, an error without a position, or a DuckDB error
//	               reaching the user
//
// Any CRASH fails the test. testdata/corpus/expect.txt records each query's
// outcome, so a change shows as a diff; `go test ./engine -run Corpus
// -update` rewrites it (read the diff).

// corpusOutcome is what became of one corpus query.
type corpusOutcome struct {
	kind   string // ran, unknown-table, rejected, CRASH
	detail string
}

func (o corpusOutcome) String() string { return o.kind + "\t" + o.detail }

// duckDBMessage matches the text of DuckDB's own errors, which must never
// reach a user: socq's errors name KQL constructs, not SQL ones.
var duckDBMessage = regexp.MustCompile(`(?i)(binder|catalog|conversion|parser|invalid input|out of range|not implemented|internal|type mismatch) error|duckdb|\bSQL\b`)

func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("../testdata/corpus/*.kql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus queries found: %v", err)
	}
	db := fixtureDB(t)
	got := map[string]corpusOutcome{}
	tally := map[string]int{}
	onlySecurityIncident, onlySecurityIncidentRan := 0, 0
	for _, file := range files {
		name := filepath.Base(file)
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text, params := corpusQuery(string(raw))
		if !strings.Contains(text, "SecurityIncident") {
			t.Errorf("%s: not a query over SecurityIncident", name)
		}
		out := runCorpusQuery(db, text, params)
		got[name] = out
		tally[out.kind]++
		if out.kind == "CRASH" {
			t.Errorf("%s: %s", name, out.detail)
		}
		if out.kind != "unknown-table" {
			onlySecurityIncident++
			if out.kind == "ran" {
				onlySecurityIncidentRan++
			}
		}
	}
	t.Logf("corpus: %d queries: %d ran, %d rejected by name, %d name a table socq lacks, %d crashed; %d of the %d over SecurityIncident alone ran (%.0f%%)",
		len(files), tally["ran"], tally["rejected"], tally["unknown-table"], tally["CRASH"],
		onlySecurityIncidentRan, onlySecurityIncident, 100*float64(onlySecurityIncidentRan)/float64(max(onlySecurityIncident, 1)))

	expectFile := "../testdata/corpus/expect.txt"
	if *update {
		var b strings.Builder
		b.WriteString("# query\toutcome\tdetail (rewritten by go test ./engine -run Corpus -update)\n")
		names := make([]string, 0, len(got))
		for n := range got {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s\t%s\n", n, got[n])
		}
		if err := os.WriteFile(expectFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readCorpusExpect(t, expectFile)
	for name, out := range got {
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: not in expect.txt (got %s); run with -update", name, out)
			continue
		}
		if w != out.String() {
			t.Errorf("%s:\n got  %s\n want %s", name, out, w)
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("expect.txt names %s, which is not in the corpus", name)
		}
	}
}

// corpusQuery splits a corpus file into its query text (the whole file: its
// comments are KQL comments) and the parameters of its "// param:" lines.
func corpusQuery(raw string) (string, map[string]string) {
	params := map[string]string{}
	for _, line := range strings.Split(raw, "\n") {
		if rest, ok := strings.CutPrefix(line, "// param: "); ok {
			k, v, _ := strings.Cut(strings.TrimSpace(rest), "=")
			params[k] = v
		}
	}
	return raw, params
}

// runCorpusQuery runs text as socq query does and classifies what happened.
func runCorpusQuery(db *engine.DB, text string, params map[string]string) (out corpusOutcome) {
	defer func() {
		if r := recover(); r != nil {
			out = corpusOutcome{"CRASH", fmt.Sprintf("panic: %v", r)}
		}
	}()
	text, err := parser.SubstituteParameters(text, params, goldenNow)
	if err != nil {
		return classifyError(text, err)
	}
	plan, err := compile(text, db)
	if err != nil {
		return classifyError(text, err)
	}
	var csv bytes.Buffer
	w, err := output.New(&csv, "csv", plan.Columns)
	if err != nil {
		return corpusOutcome{"CRASH", "output: " + err.Error()}
	}
	rows := 0
	if err := db.Query(context.Background(), plan, func(r []any) error { rows++; return w.Row(r) }); err != nil {
		return corpusOutcome{"CRASH", "execution failed: " + oneLine(err.Error())}
	}
	w.Close()
	cols := make([]string, len(plan.Columns))
	for i, c := range plan.Columns {
		cols[i] = c.Name
	}
	return corpusOutcome{"ran", fmt.Sprintf("%d rows\t%s\t%s", rows, resultDigest(csv.String()), strings.Join(cols, ","))}
}

// resultDigest fingerprints a CSV result independently of its row order
// (Kusto leaves the order of unsorted results open), so that expect.txt
// shows when a query's result changes.
func resultDigest(csv string) string {
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return "result " + hex.EncodeToString(sum[:5])
}

// classifyError sorts an error from parsing or compiling: it must be a
// *parser.Error with a place in the query and a message of socq's own.
func classifyError(text string, err error) corpusOutcome {
	var perr *parser.Error
	if !errors.As(err, &perr) {
		return corpusOutcome{"CRASH", "error without a position: " + oneLine(err.Error())}
	}
	if duckDBMessage.MatchString(perr.Msg) {
		return corpusOutcome{"CRASH", "DuckDB's message reached the user: " + oneLine(perr.Msg)}
	}
	if perr.Span.End <= perr.Span.Start || perr.Span.Start < 0 || perr.Span.End > len(text) {
		return corpusOutcome{"CRASH", fmt.Sprintf("error with no text under its caret (%d..%d): %s", perr.Span.Start, perr.Span.End, oneLine(perr.Msg))}
	}
	at := fmt.Sprintf("at %q: %s", oneLine(text[perr.Span.Start:perr.Span.End]), oneLine(perr.Msg))
	if strings.HasPrefix(perr.Msg, "unknown table") {
		return corpusOutcome{"unknown-table", at}
	}
	return corpusOutcome{"rejected", at}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func readCorpusExpect(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("%v (run go test ./engine -run Corpus -update)", err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, "\t")
		want[name] = rest
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return want
}
