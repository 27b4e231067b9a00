package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
)

// handCases exercise the hand-written parsers of operators, pipelines and
// let statements, and their fallback to participle: each is parsed both
// ways and must give the same tree (spans included) or the same error.
var handCases = []string{
	`T | mv-expand Tasks`,
	`T | mv-expand Task = Tasks`,
	`T | mvexpand Tasks`,
	`T | mv-expand Task = Tasks to typeof(dynamic), L = Labels to typeof(string) limit 10`,
	`T | mv-expand kind = array Tasks`,
	`T | mv-expand bagexpansion=bag with_itemindex=i Tasks`,
	`T | mv-expand with_itemindex = i T = Tasks limit 2 | where i > 0`,
	`T | mv-expand ['x y'] = Tasks, Tasks[0].a`,
	`T | mv-expand Tasks to typeof(`,
	`T | mv-expand Tasks limit`,
	`T | mv-expand kind=frob Tasks`,
	`T | mv-expand`,
	`T | mv-expand x =`,
	`T | top 5 by Severity`,
	`T | top 5 by Severity desc nulls first | top n + 1 by tostring(x) asc`,
	`T | top 5`,
	`T | top by x`,
	`T | distinct *`,
	`T | distinct a, ['b c'], d`,
	`T | distinct a + 1`,
	`T | distinct`,
	`T | project-away a, b*, ['c'], *x*`,
	`T | project-keep Tenant*, ['x y']`,
	`T | project-reorder b, a*`,
	`T | project-away`,
	`T | project-away a,`,
	`T | project-rename a = b, ['c d'] = e`,
	`T | project-rename a = b.c`,
	`T | project-rename a`,
	`T | join (U) on a`,
	`T | join kind=leftouter (U | where x > 1 | project a, b) on a, $left.b == $right.c`,
	`T | join kind = inner hint.strategy = broadcast hint.remote = "x" U on a`,
	`T | join kind=inner U on a`,
	`T | join (U | take 1) on a | join (datatable(a: long) [1]) on a`,
	`T | join (print a = 1) on a`,
	`T | join kind=inner (U) on`,
	`T | join (U on a`,
	`T | lookup (U) on a`,
	`T | lookup kind=leftouter U on $left.a == $right.b`,
	`T | evaluate bag_unpack(Tasks)`,
	`T | evaluate bag_unpack(Tasks, "t_", columnsConflict = "replace_source")`,
	`T | evaluate pivot(a, count(), b)`,
	`T | evaluate narrow()`,
	`T | evaluate bag_unpack(`,
	`T | evaluate x`,
	`T | as X | as hint.materialized = true Y`,
	`T | as`,
	`T | render timechart`,
	`T | render columnchart with (title = "x", kind = stacked)`,
	`T | render columnchart kind=stacked title="x" ysplit = panels`,
	`T | render piechart with (title = "a"`,
	`T | render`,
	`T | serialize`,
	`T | serialize rn = row_number(), x`,
	`T | serialize | count`,
	`T | union U, (V | take 1)`,
	`T | union kind=outer withsource=Src isfuzzy=true U, V`,
	`T | parse Description with * "user " User:string " from " Host " at " *`,
	`T | parse kind=regex Description with "(?<x>a)" x`,
	`T | sample 3`,
	`T | make-series n = count() default = 0 on TimeGenerated from ago(7d) to now() step 1d by Severity`,
	`T | mv-apply Task = Tasks to typeof(dynamic) on (where Task.status == "New" | take 1)`,
	`T | top-nested 3 of Severity by count()`,
	`T | frobnicate x y z | take 1`,
	`T | where x | `,
	`T | where x ;`,
	`T | where x; `,
	`T | take 1 | `,
	`T |`,
	`let x = 1; T | take x`,
	`let x = 1;T | take x;`,
	`let startTime = ago(14d); let n = 5; T | where TimeGenerated > startTime | take n`,
	`let startTime = ago(14d) + 1d; T`,
	`let a = T | where x > 1 | project a; let b = a | take 1; b | join kind=inner a on a`,
	`let a = T; a`,
	`let a = T | take 1; let b = (a | count); b`,
	`let a = ['T x'] | take 1; a`,
	`let s = "x"; let d = dynamic(["a", "b"]); let t = datetime(2024-01-01); T | where x in (d)`,
	`let a = datatable(x: long) [1, 2]; a`,
	`let a = materialize(T | take 1); a`,
	`let a = toscalar(T | count); print a`,
	`let f = (x: string) { strlen(x) }; T | extend y = f(Title)`,
	`let a = T | take 1`,
	`let a = T | take 1; `,
	`let a = ; T`,
	`let = 1; T`,
	`let a = 1 T`,
	`let a = T | frob x; a`,
	`let a = print x = 1; a`,
	`let x = range(1, 2); x`,
	`let x = f(1) | take 1; x`,
	`let x = y | take 1; x`,
	`(T | take 5) | count`,
	`(T) | join (U) on a`,
	`T | join (U | join (V) on b) on a`,
	`union T, U | take 1`,
	`T | where x == 1 | summarize by y | mv-expand y | top 1 by y | project-away y | distinct *`,
	"T\n// a comment\n| mv-expand Tasks // trailing\n| top 3 by x // more\n",
	`T | join kind=inner (U) on a | where $left.a == 1`,
	`T | join (U) on $left.a == $right.b, c`,
	`T | as hint.materialized=true X | join (X) on a`,
	`datatable(a: long, b: string) [1, "x", 2, "y",] | take 1`,
	`datatable(a: long) [] | count`,
	`datatable(a: long) [1, , 2]`,
	`datatable(a: long) [1`,
	`datatable(a long) [1]`,
	`print x = 1, y = "a" | extend z = x`,
	`print`,
	`range x from 1 to 3 step 1 | take 2`,
	`range x from 1 to 3`,
	`let d = dynamic(null); d`,
	`let d = dynamic([1, 2]) | take 1; d`,
	`let x = (T | count); x`,
	`let x = (1 + 2); print x`,
	`let x = (a) + 1; T`,
	`let x = materialize(T | take 1) | take 1; x`,
	`let f = () { 1 }; print f()`,
	`let f = (x: long) { x }; print f(1)`,
	`let x = print y = 1; x`,
	`let x = toscalar(T | count); print x`,
	`let x = union T, U; x`,
	`f(1) | take 1`,
	`f(1, a = 2)`,
	`union (print x = 1), (T | take 1)`,
	`union kind=inner withsource=S T, U`,
	`(datatable(a: long) [1]) | count`,
	`((T)) | count`,
	`T | join (datatable(a: long) [1] | take 1) on a`,
	`T | union (print x = 1)`,
	`workspace("x").T | take 1`,
	`materialize(T) | take 1`,
	`materialize(T | take 1`,
	`let x = workspace("a").T; x`,
	`T; `,
	`T;;`,
	`let x = 1; let y = x; `,
	`T | parse Description with "a" x:long "b" * | take 1`,
	`T | parse kind=regex Description with ['x y'] "[0-9]+" *`,
	`T | parse kind Description with x`,
	`T | parse Description with`,
	`T | parse Description with x:`,
	`T | parse Description x`,
	`T | make-series count() on TimeGenerated step 1d`,
	`T | make-series n = count() default = 0, dcount(x) on TimeGenerated from ago(1d) to now() step 1h by a, b = c`,
	`T | make-series n = count() on TimeGenerated to now() step 1h | take 1`,
	`T | make-series n = count() on TimeGenerated`,
	`T | make-series n = count() default = on TimeGenerated step 1h`,
	`let f = (T: (RuleId: string), n: long) { let m = n * 2; T | take m; }; f(SecurityIncident, 1)`,
	`let f = (T: (*)) { T | count }; f(T)`,
	`let f = (T: ()) { T }; f(T)`,
	`let f = (x: string, ['y z']: long) { strlen(x) + ['y z'] }; print f("a", 1)`,
	`let f = () { print x = 1 }; f()`,
	`let f = (x: long) { x } | take 1; T`,
	`let f = (x: long) { x + }; T`,
	`let f = (x: long) { frob x y }; T`,
	`let f = (x: long, ) { x }; T`,
	`let f = (x) { x }; T`,
	`let f = (x: long) { let y = x; }; T`,
	`let f = (x: long) { let g = (z: long) { z }; g(x) }; print f(1)`,
}

// TestHandParsersAgree parses queries with the hand-written parsers and
// with participle's grammar alone and checks that trees (with every span)
// and errors are identical.
func TestHandParsersAgree(t *testing.T) {
	var queries []string
	queries = append(queries, handCases...)
	queries = append(queries, roundTripCases...)
	queries = append(queries, goldenQueries(t)...)
	queries = append(queries, corpusQueries(t)...)
	for _, q := range queries {
		if msg := handParsersDisagree(q); msg != "" {
			t.Error(msg)
		}
	}
}

// handParsersDisagree returns how the two parses of text differ, or "".
func handParsersDisagree(text string) string {
	q1, err1 := parse(text, true)
	if tokens, err := lexTokens(text); err1 != nil && err == nil && tooDeepToSearch(tokens.all) != nil {
		return "" // participle is not asked (and would take exponential time)
	}
	q2, err2 := parse(text, false)
	if tokens, err := lexTokens(text); err == nil && err2 != nil {
		if g := handQuery(tokens); g != nil && g.letCallExpr {
			return "" // participle's grammar cannot read these (see let in opparse.go)
		}
	}
	if !reflect.DeepEqual(err1, err2) {
		return "errors differ for " + quote(text) + ":\n hand:       " + describeErr(err1) + "\n participle: " + describeErr(err2)
	}
	if !reflect.DeepEqual(q1, q2) {
		return "trees differ for " + quote(text) + ":\n hand:       " + describeQuery(q1) + "\n participle: " + describeQuery(q2)
	}
	return ""
}

func quote(s string) string { return "`" + s + "`" }

func describeErr(err error) string {
	if e, ok := err.(*Error); ok {
		return fmt.Sprintf("%s at %d..%d", e.Error(), e.Span.Start, e.Span.End)
	}
	if err == nil {
		return "no error"
	}
	return err.Error()
}

func describeQuery(q *Query) string {
	if q == nil {
		return "nil"
	}
	return q.String()
}

// goldenQueries are the queries of the engine's golden cases.
func goldenQueries(t testing.TB) []string {
	files, err := filepath.Glob("../testdata/queries/*/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	var out []string
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if f.Name == "query.kql" {
				out = append(out, string(f.Data))
			}
		}
	}
	return out
}

// corpusQueries are the real public queries of testdata/corpus, as written
// and with their workbook parameters substituted.
func corpusQueries(t testing.TB) []string {
	files, err := filepath.Glob("../testdata/corpus/*.kql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus queries: %v", err)
	}
	var out []string
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		out = append(out, text)
		params := map[string]string{}
		for _, line := range strings.Split(text, "\n") {
			if rest, ok := strings.CutPrefix(line, "// param: "); ok {
				k, v, _ := strings.Cut(strings.TrimSpace(rest), "=")
				params[k] = v
			}
		}
		if sub, err := SubstituteParameters(text, params, now); err == nil && sub != text {
			out = append(out, sub)
		}
	}
	return out
}

// FuzzHandParsers: on any text, the hand-written parsers and participle's
// grammar give the same tree or the same error.
func FuzzHandParsers(f *testing.F) {
	for _, q := range handCases {
		f.Add(q)
	}
	for _, q := range roundTripCases {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if msg := handParsersDisagree(text); msg != "" {
			t.Fatal(msg)
		}
	})
}
