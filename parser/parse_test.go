package parser

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// roundTripCases parse, print back, and parse again to the same tree.
var roundTripCases = []string{
	`SecurityIncident`,
	`SecurityIncident | where array_length(Tasks) > 0`,
	`SecurityIncident | where Title has "phish" and Severity == 'High' or not(isempty(Description))`,
	`SecurityIncident | project IncidentNumber, Title, Owner.assignedTo, T = Tasks[0].title, A = AdditionalData["alertsCount"]`,
	`SecurityIncident | mv-expand Tasks | project Task = tostring(Tasks.title)`,
	`SecurityIncident | mv-expand kind=array with_itemindex=i T = Tasks to typeof(string), Labels limit 5`,
	`SecurityIncident | mv-expand bagexpansion=bag Owner`,
	`SecurityIncident | take 10 | limit 5 | count`,
	`SecurityIncident | where TimeGenerated between (datetime(2024-01-01) .. 1d) and IncidentNumber !between (1 .. 5)`,
	`SecurityIncident | where Severity in ("High", "Medium") and Status !in ('Closed') and Title in~ ("a") and Title !in~ ("b")`,
	`SecurityIncident | where Title !has "x" and Title contains_cs "Y" and Title !contains "z" and Title startswith "a" and Title endswith "b" and Title =~ "c" and Title !~ "d" and Title != "e"`,
	`SecurityIncident | extend x = 1 + 2 * 3 - (4 / 5) % 6, y = -IncidentNumber, z = 1.5, w = 1e3, v = int(7), u = long(-3), r = real(-inf), b = true, d = dynamic({"a": [1, "x", null, true]}), e = dynamic(null)`,
	`SecurityIncident | extend t = 1d + 2h + 30m + 10s + 100ms + 1.5h, n = datetime(null), ts = time(1.02:03:04), m = timespan(-1d)`,
	`SecurityIncident | project ['my col'] = Title, ["x y"] = 1, Owner.['odd key']`,
	`SecurityIncident | extend p = a + b has "x", q = 1 < 2 == true, ['5th_Percentile'] = 5th_Percentile`,
	`SecurityIncident | sort by TimeGenerated desc, Title asc nulls first | order by IncidentNumber | top 5 by Severity nulls last`,
	`SecurityIncident | distinct Title, Severity | distinct * | project-away Title | project-keep Severity | project-reorder Severity`,
	`SecurityIncident | project-rename Name = Title, ['x y'] = Severity`,
	`print x = 1, "a", now()`,
	`SecurityIncident | lookup kind=inner (datatable(Severity: string, Rank: long) ["High", 1]) on Severity`,
	`SecurityIncident | mv-apply with_itemindex=i Task = Tasks to typeof(dynamic) limit 5 on (where Task.status == "New" | summarize n = count())`,
	`let f = (x: string, n: long) { strlen(x) + n }; SecurityIncident | extend y = f(Title, 2)`,
	`SecurityIncident | make-series n = count() default = 0, dcount(IncidentNumber) on TimeGenerated from ago(7d) to now() step 1d by Severity`,
	`SecurityIncident | take 3 | as T | join (T) on IncidentNumber`,
	`SecurityIncident | parse Description with * "user " User:string " from " Host " at " * | sample 3`,
	`datatable(Severity: string, Rank: int) ["High", 1, "Low", 3] | where Rank > 1`,
	`range n from 1 to 10 step 2 | extend m = n * 2`,
	`union withsource=T SecurityIncident, (SecurityIncident | take 1) | union kind=inner (print x = 1), SecurityIncident`,
	`(SecurityIncident | take 5) | count`,
	`let sev = datatable(Severity: string, Rank: long) ["High", 1]; let p = print a = 1; SecurityIncident | join kind=leftouter (sev) on Severity`,
	`SecurityIncident | join kind=leftouter (SecurityIncident | where Status == "Closed" | project IncidentNumber, ClosedTime) on IncidentNumber, $left.Title == $right.Title`,
	`SecurityIncident | summarize count() by bin(TimeGenerated, 1d) | render timechart with (title = "Incidents", ytitle = "count")`,
	`SecurityIncident | mv-expand Tasks | evaluate bag_unpack(Tasks, "t_", columnsConflict = "replace_source")`,
	`SecurityIncident | summarize arg_max(TimeGenerated, *) by IncidentNumber | summarize count(), n = dcount(Title), max_of(percentile(x, 5), 0) by bin(TimeGenerated, 1d), Severity | summarize by Status`,
	`SecurityIncident | where Title == @"C:\path" and Title == "tab\there" and Title == 'it''s'`,
	`SecurityIncident | summarize arg_max(TimeGenerated, Rule = Title, Tactics = tostring(AdditionalData.tactics), Severity) by IncidentNumber`,
	`let n = toscalar(SecurityIncident | count); SecurityIncident | extend share = 1.0 / toscalar(SecurityIncident | summarize dcount(IncidentNumber))`,
	`let startTime = ago(14d); let x = materialize(SecurityIncident | take 1); x | where TimeGenerated >= startTime`,
	`let f = (T: (RuleId: string), n: long) { let m = n * 2; T | take m }; f(SecurityIncident, 1)`,
	`let g = (x: string) { let y = strlen(x); y + 1 }; print g("a")`,
	`SecurityIncident | sort by TimeGenerated asc | serialize rn = row_number() | extend p = prev(Status, 1, "none"), q = next(Status) | serialize`,
	`SecurityIncident | extend p = split(Title, ":").[1] | evaluate pivot(Status, count(), Severity)`,
	`SecurityIncident | summarize hint.strategy = shuffle count() by Severity | render columnchart kind = stacked title = "x"`,
	`SecurityIncident | where * has "phish" and * !contains "x" | summarize arg_max(TimeGenerated, *), countif(* has "y") by IncidentNumber`,
}

func TestRenderLegacyProperties(t *testing.T) {
	q, err := Parse(`T | render columnchart kind=stacked title="x"`)
	if err != nil {
		t.Fatal(err)
	}
	r := q.Pipe.Ops[0].(*Render)
	if r.Kind != "columnchart" || r.Options != `kind = stacked , title = "x"` {
		t.Errorf("render = %q with %q", r.Kind, r.Options)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, text := range roundTripCases {
		q1, err := Parse(text)
		if err != nil {
			t.Errorf("Parse(%q): %v", text, err)
			continue
		}
		printed := q1.String()
		q2, err := Parse(printed)
		if err != nil {
			t.Errorf("reparse of %q printed as\n%s\nfailed: %v", text, printed, err)
			continue
		}
		if !reflect.DeepEqual(stripSpans(q1), stripSpans(q2)) {
			t.Errorf("round trip changed the tree:\n in: %s\nout: %s", text, printed)
		}
		if again := q2.String(); again != printed {
			t.Errorf("printing is not stable:\n%s\n%s", printed, again)
		}
	}
}

// stripSpans zeroes every Span in the tree so trees can be compared by shape.
func stripSpans(v any) any {
	stripValue(reflect.ValueOf(v))
	return v
}

func stripValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stripValue(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if f.Type() == reflect.TypeOf(Span{}) {
				f.Set(reflect.Zero(f.Type()))
				continue
			}
			stripValue(f)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			stripValue(v.Index(i))
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		query, msg, caret string
	}{
		{`SecurityIncident | top-nested 3 of Severity by count()`, "the 'top-nested' operator is not supported", "top-nested"},
		{`SecurityIncident | frobnicate`, "unknown operator 'frobnicate'", "frobnicate"},
		{`SecurityIncident | WHERE x`, "unknown operator 'WHERE'", "WHERE"},
		{`SecurityIncident | where`, "unexpected end of query", ""},
		{`SecurityIncident | where Title == "abc`, "unterminated string literal", `"abc`},
		{`SecurityIncident | where Title == "a\qb"`, `unknown escape sequence '\q'`, `"a\qb"`},
		{`SecurityIncident | where x == datetime(yesterday)`, `cannot parse "yesterday" as a datetime`, `datetime(yesterday)`},
		{"SecurityIncident | where Title == \"a\x00\"", "NUL", "\x00"},
		{`SecurityIncident | where Title !frob "x"`, "unexpected '!frob'", "!frob"},
		{`SecurityIncident | where a = 1`, "unexpected '='", "="},
		// The error that got furthest is reported, also when the
		// hand-written expression parser gave up an alternative.
		{`SecurityIncident | extend d = dynamic([1, x])`, "unexpected 'x'", "x"},
		{`SecurityIncident | where a in 1`, "unexpected '1'; expected '('", "1"},
		{`SecurityIncident | summarize count( by x`, "unexpected 'x'; expected ')'", "x"},
		{`SecurityIncident | project ['Title'`, "unexpected end of query", ""},
		{`SecurityIncident | extend x = toscalar(SecurityIncident | count`, "unexpected end of query", ""},
		// Too deep for participle's search (exponential in the depth of
		// join subqueries).
		{"T" + strings.Repeat(" | join (T", 20), "this '(' is never closed", "("},
		{"T" + strings.Repeat(" | join kind=inner (T", 20) + " | where " + strings.Repeat(") on x", 20), "nests deeper than 8 levels", "("},
		// Other parentheses nest deeply at no cost: participle words the error.
		{"print " + strings.Repeat("f(", 20) + "1 +" + strings.Repeat(")", 20), "unexpected ')'", ")"},
	}
	for _, c := range cases {
		_, err := Parse(c.query)
		perr, ok := err.(*Error)
		if !ok {
			t.Errorf("Parse(%q) = %v, want *Error", c.query, err)
			continue
		}
		if !strings.Contains(perr.Msg, c.msg) {
			t.Errorf("Parse(%q) message %q, want it to contain %q", c.query, perr.Msg, c.msg)
		}
		if got := c.query[perr.Span.Start:perr.Span.End]; c.caret != "" && got != c.caret {
			t.Errorf("Parse(%q) points at %q, want %q", c.query, got, c.caret)
		}
	}
}

// TestRoundTripGoldenQueries round-trips every query of the golden cases
// that parses, so new syntax is covered as soon as a case uses it.
func TestRoundTripGoldenQueries(t *testing.T) {
	files, err := filepath.Glob("../testdata/queries/*/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if f.Name != "query.kql" {
				continue
			}
			q1, err := Parse(string(f.Data))
			if err != nil {
				continue // error cases are golden-tested elsewhere
			}
			q2, err := Parse(q1.String())
			if err != nil {
				t.Errorf("%s: printed query does not parse: %v\n%s", file, err, q1)
				continue
			}
			if !reflect.DeepEqual(stripSpans(q1), stripSpans(q2)) {
				t.Errorf("%s: round trip changed the tree:\n%s", file, q1)
			}
		}
	}
}

func TestComparisonsDoNotChain(t *testing.T) {
	for _, q := range []string{
		`SecurityIncident | where a == b == c`,
		`SecurityIncident | where a < b < c`,
		`SecurityIncident | where a in (1) == true`,
	} {
		_, err := Parse(q)
		if err == nil || !strings.Contains(err.Error(), "do not chain") {
			t.Errorf("Parse(%q) = %v, want a chaining error", q, err)
		}
	}
	// Different levels compose: relational binds tighter than equality.
	q, err := Parse(`SecurityIncident | where a < b == c`)
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Pipe.Ops[0].(*Where).Pred.(*Binary); got.Op != "==" || got.Left.(*Binary).Op != "<" {
		t.Errorf("a < b == c parsed as %s", got)
	}
}
