package check

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func num(f float64) *Limit { return &Limit{Text: formatNumber(f), Number: f} }

func span(s string) *Limit {
	d, ok := parseSpan(s)
	if !ok {
		panic("bad timespan " + s)
	}
	return &Limit{Text: s, Span: d, IsSpan: true}
}

func one(v any) *Rows { return &Rows{Columns: []string{"Value"}, Values: [][]any{{v}}} }

func TestEvaluate(t *testing.T) {
	n := 0.0
	str := "High"
	yes := true
	hour := time.Hour
	tests := []struct {
		name   string
		check  Check
		rows   *Rows
		status Status
		value  string // ValueText
		msg    string // substring of Message; "" means Message must be empty
	}{
		{"int under max", Check{Max: num(5)}, one(int64(3)), Pass, "3", ""},
		{"int at max passes", Check{Max: num(3)}, one(int64(3)), Pass, "3", ""},
		{"int above max", Check{Max: num(2)}, one(int64(3)), Fail, "3", "3 is above max 2"},
		{"real below min", Check{Min: num(50)}, one(49.99), Fail, "49.99", "49.99 is below min 50"},
		{"real at min passes", Check{Min: num(50)}, one(50.0), Pass, "50", ""},
		{"rounded for display", Check{Max: num(4)}, one(1.0573690644618057), Pass, "1.057", ""},
		{"warn_max crossed", Check{Max: num(4), WarnMax: num(1)}, one(1.5), Warn, "1.5", "1.5 is above warn_max 1"},
		{"warn_min crossed", Check{Min: num(50), WarnMin: num(75)}, one(66.7), Warn, "66.7", "66.7 is below warn_min 75"},
		{"fail beats warn", Check{Max: num(4), WarnMax: num(1)}, one(5.0), Fail, "5", "5 is above max 4"},
		{"severity warning turns fail into warn", Check{Max: num(2), Severity: SeverityWarning}, one(int64(3)), Warn, "3", "3 is above max 2"},
		{"min and max both fine", Check{Min: num(1), Max: num(10)}, one(int64(6)), Pass, "6", ""},
		{"equals number", Check{Equals: &Expected{Text: "0", Number: &n}}, one(int64(0)), Pass, "0", ""},
		{"equals number breached", Check{Equals: &Expected{Text: "0", Number: &n}}, one(int64(2)), Fail, "2", "2 is not equal to 0"},
		{"equals string", Check{Equals: &Expected{Text: "High", String: &str}}, one("High"), Pass, "High", ""},
		{"equals string is case-sensitive", Check{Equals: &Expected{Text: "High", String: &str}}, one("high"), Fail, "high", "high is not equal to High"},
		{"equals bool", Check{Equals: &Expected{Text: "true", Bool: &yes}}, one(true), Pass, "true", ""},
		{"equals timespan", Check{Equals: &Expected{Text: "1h", String: ptr("1h"), Span: &hour}}, one(time.Hour), Pass, "01:00:00", ""},
		{"equals kind mismatch", Check{Equals: &Expected{Text: "true", Bool: &yes}}, one(int64(1)), Error, "1", "the value is a number (1); expected equals to be a number too"},
		{"timespan under max", Check{Max: span("3h")}, one(2*time.Hour + 44*time.Minute), Pass, "02:44:00", ""},
		{"timespan above max", Check{Max: span("1d")}, one(25 * time.Hour), Fail, "1.01:00:00", "1.01:00:00 is above max 1d"},
		{"timespan value, number threshold", Check{Max: num(4)}, one(time.Hour), Error, "01:00:00", "max 4: the value is a timespan (01:00:00); expected the threshold as a timespan, such as 4h"},
		{"number value, timespan threshold", Check{Max: span("4h")}, one(1.5), Error, "1.5", "the value is a number (1.5), the threshold a timespan"},
		{"string value, max", Check{Max: num(4)}, one("x"), Error, "x", "max and min compare numbers and timespans"},
		{"dynamic number", Check{Max: num(4)}, one(json.RawMessage(`3`)), Pass, "3", ""},
		{"dynamic array", Check{Max: num(4)}, one(json.RawMessage(`[1]`)), Error, "", "is a dynamic array or bag"},
		{"null value", Check{Max: num(4)}, one(nil), Error, "", "Value is null"},
		{"NaN value", Check{Max: num(4)}, one(math.NaN()), Error, "", "Value is NaN"},
		{"no rows", Check{Max: num(4)}, &Rows{Columns: []string{"Value"}}, Error, "", "the query returned no rows; expected one row"},
		{"two rows", Check{Max: num(4)}, &Rows{Columns: []string{"Value"}, Values: [][]any{{int64(1)}, {int64(2)}}}, Error, "", "the query returned 2 rows; expected one row"},
		{"two columns, no value", Check{Max: num(4)}, &Rows{Columns: []string{"a", "b"}, Values: [][]any{{int64(1), int64(2)}}}, Error, "", "the query returns 2 columns (a, b); say which holds the value with value: COLUMN"},
		{"two columns, value named", Check{Max: num(4), Value: "b"}, &Rows{Columns: []string{"a", "b"}, Values: [][]any{{int64(1), int64(7)}}}, Fail, "7", "7 is above max 4"},
		{"value names a missing column", Check{Max: num(4), Value: "B"}, &Rows{Columns: []string{"a", "b"}, Values: [][]any{{int64(1), int64(7)}}}, Error, "", `the result has no column "B"; its columns are a, b`},
		{"expect empty, none", Check{ExpectEmpty: true}, &Rows{Columns: []string{"a"}}, Pass, "0 rows", ""},
		{"expect empty, some", Check{ExpectEmpty: true}, &Rows{Columns: []string{"a"}, Values: [][]any{{"x"}, {"y"}}}, Fail, "2 rows", "the query returned 2 rows; expected none"},
		{"expect empty, warning", Check{ExpectEmpty: true, Severity: SeverityWarning}, &Rows{Columns: []string{"a"}, Values: [][]any{{"x"}}}, Warn, "1 row", "the query returned 1 row; expected none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.check
			c.Name = "c"
			res := Evaluate(&c, tt.rows)
			if res.Status != tt.status {
				t.Errorf("status %s, want %s (message %q)", res.Status, tt.status, res.Message)
			}
			if res.ValueText != tt.value {
				t.Errorf("value %q, want %q", res.ValueText, tt.value)
			}
			switch {
			case tt.msg == "" && res.Message != "":
				t.Errorf("message %q, want none", res.Message)
			case !strings.Contains(res.Message, tt.msg):
				t.Errorf("message %q, want it to contain %q", res.Message, tt.msg)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestEvaluateExpectEmptyDetail(t *testing.T) {
	rows := &Rows{Columns: []string{"IncidentNumber", "Title"}}
	for i := range 12 {
		rows.Values = append(rows.Values, []any{int64(i), "line\nbreak"})
	}
	res := Evaluate(&Check{Name: "c", ExpectEmpty: true}, rows)
	lines := strings.Split(strings.TrimSuffix(res.Detail, "\n"), "\n")
	if len(lines) != maxDetailRows+1 {
		t.Fatalf("detail has %d lines, want %d:\n%s", len(lines), maxDetailRows+1, res.Detail)
	}
	if lines[0] != "IncidentNumber=0, Title=line break" || lines[maxDetailRows] != "… and 2 more" {
		t.Errorf("detail:\n%s", res.Detail)
	}
}

func TestThreshold(t *testing.T) {
	tests := []struct {
		check Check
		want  string
	}{
		{Check{ExpectEmpty: true}, "no rows"},
		{Check{Max: num(4), WarnMax: num(1)}, "max 4, warn_max 1"},
		{Check{Min: num(50), WarnMin: num(75)}, "min 50, warn_min 75"},
		{Check{Min: num(1), Max: num(10)}, "min 1, max 10"},
		{Check{Equals: &Expected{Text: "0"}, Max: span("2h")}, "equals 0, max 2h"},
	}
	for _, tt := range tests {
		if got := tt.check.Threshold(); got != tt.want {
			t.Errorf("Threshold() = %q, want %q", got, tt.want)
		}
	}
}

// fakeRunner answers queries from a map; a missing query is an error.
type fakeRunner struct {
	rows   map[string]*Rows
	params []map[string]string
}

func (f *fakeRunner) Run(_ context.Context, query string, params map[string]string) (*Rows, error) {
	f.params = append(f.params, params)
	if r, ok := f.rows[query]; ok {
		return r, nil
	}
	return nil, detailError{"unknown column 'Titel'"}
}

type detailError struct{ msg string }

func (e detailError) Error() string  { return e.msg + "\nsecond line" }
func (e detailError) Detail() string { return "error: " + e.msg + "\n  | caret\n" }

func TestRun(t *testing.T) {
	f := &File{
		Name:   "checks.yaml",
		Params: map[string]string{"TimeRange": "30d", "Owner": "file"},
		Checks: []*Check{
			{Name: "ok", Query: "q1", Max: num(5), Line: 3},
			{Name: "broken", Query: "bad", Max: num(5), Line: 7, Params: map[string]string{"Owner": "check"}},
			{Name: "over", Query: "q2", Max: num(1), Line: 9},
		},
	}
	r := &fakeRunner{rows: map[string]*Rows{"q1": one(int64(2)), "q2": one(int64(2))}}
	rep, err := Run(context.Background(), f, r, map[string]string{"TimeRange": "7d", "Owner": "cli"})
	if err != nil {
		t.Fatal(err)
	}
	var got []Status
	for _, res := range rep.Results {
		got = append(got, res.Status)
	}
	if want := []Status{Pass, Error, Fail}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if rep.Worst() != Error || rep.Summary() != "3 checks: 1 passed, 1 failed, 1 could not run" {
		t.Errorf("worst %s, summary %q", rep.Worst(), rep.Summary())
	}
	broken := rep.Results[1]
	if broken.Message != "unknown column 'Titel'" || broken.Detail != "error: unknown column 'Titel'\n  | caret\n" {
		t.Errorf("error result: message %q, detail %q", broken.Message, broken.Detail)
	}
	// The command line overrides the file; a check's own params win.
	if p := r.params[0]; p["TimeRange"] != "7d" || p["Owner"] != "cli" {
		t.Errorf("params of the first check: %v", p)
	}
	if p := r.params[1]; p["TimeRange"] != "7d" || p["Owner"] != "check" {
		t.Errorf("params of the second check: %v", p)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, f, r, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: %v", err)
	}

	errored := Errored(f, errors.New("no database at x.duckdb"))
	if errored.Count(Error) != 3 || errored.Results[0].Message != "no database at x.duckdb" {
		t.Errorf("Errored: %s, first message %q", errored.Summary(), errored.Results[0].Message)
	}
}
