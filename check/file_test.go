package check

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLoadExample(t *testing.T) {
	data, err := os.ReadFile("../examples/checks/soc-metrics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Load("soc-metrics.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Checks) != 8 || f.Params["TimeRange"] != "30d" {
		t.Fatalf("%d checks, params %v", len(f.Checks), f.Params)
	}
	c := f.Checks[1]
	if c.Name != "median-time-to-triage" || c.Value != "50th_Percentile" || c.Max.Number != 1 || c.WarnMax.Number != 0.5 || c.Line != 35 {
		t.Errorf("second check: %+v", c)
	}
	if !strings.Contains(c.Query, "percentile(TimeToTriage, 50)") {
		t.Errorf("query: %q", c.Query)
	}
}

func TestLoad(t *testing.T) {
	data := `params:
  TimeRange: 7d
  Limit: 5
checks:
  - name: a
    description: first
    severity: warning
    query: SecurityIncident | count
    value: Count
    min: 0
    max: 1.5e2
    warn_max: 100
    params: {Severity: High, On: true}
  - name: b
    query: |
      SecurityIncident
      | where Severity == "High"
    expect: empty
  - name: c
    query: print x = "a"
    equals: a
  - name: d
    query: print x = 1h
    max: "2h"
    warn_max: 1:30:00
`
	f, err := Load("c.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	a, b, c, d := f.Checks[0], f.Checks[1], f.Checks[2], f.Checks[3]
	if f.Params["Limit"] != "5" || a.Params["Severity"] != "High" || a.Params["On"] != "true" {
		t.Errorf("params %v, check params %v", f.Params, a.Params)
	}
	if a.Severity != SeverityWarning || a.Description != "first" || a.Value != "Count" || a.Line != 5 {
		t.Errorf("check a: %+v", a)
	}
	if a.Min.Number != 0 || a.Max.Number != 150 || a.Max.Text != "1.5e2" || a.WarnMax.Number != 100 || a.WarnMin != nil {
		t.Errorf("limits of a: min %+v max %+v warn_max %+v warn_min %+v", a.Min, a.Max, a.WarnMax, a.WarnMin)
	}
	if !d.Max.IsSpan || d.Max.Span != 2*time.Hour || !d.WarnMax.IsSpan || d.WarnMax.Span != 90*time.Minute {
		t.Errorf("limits of d: max %+v warn_max %+v", d.Max, d.WarnMax)
	}
	if !b.ExpectEmpty || b.Severity != SeverityError || b.Query != "SecurityIncident\n| where Severity == \"High\"\n" || b.Line != 14 {
		t.Errorf("check b: %+v", b)
	}
	if c.Equals == nil || c.Equals.String == nil || *c.Equals.String != "a" || c.Equals.Span != nil {
		t.Errorf("equals of c: %+v", c.Equals)
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // "line: message substring", in order
	}{
		{"empty", "", []string{"0: the file is empty; expected a map with 'checks:'"}},
		{"comment only", "# nothing\n", []string{"0: the file is empty"}},
		{"not a map", "- a\n", []string{"1: the file: got array; expected a map with 'checks:'"}},
		{"no checks key", "params: {}\n", []string{"1: the file: missing 'checks:'; expected a list of checks"}},
		{"unknown top key", "checks:\n  - {name: a, query: q, max: 1}\nchecs: 1\n", []string{`3: the file: unknown key "checs"; expected one of: params, checks (did you mean checks?)`}},
		{"checks not a list", "checks: 3\n", []string{"1: checks: got number; expected a list of checks"}},
		{"no checks", "checks: []\n", []string{"1: checks: no checks"}},
		{"check not a map", "checks:\n  - just text\n", []string{"2: checks[0]: got string; expected a check: a map with name, query and thresholds"}},
		{"wrong type", "checks:\n  - name: a\n    query: q\n    max: [1]\n", []string{"4: checks[0].max: got array; expected a number, or a timespan such as 4h"}},
		{"name a number", "checks:\n  - name: 3\n    query: q\n    max: 1\n", []string{"2: checks[0].name: got number; expected a non-empty string"}},
		{"missing name and query", "checks:\n  - max: 1\n", []string{"2: checks[0]: missing name", "2: checks[0]: missing query; expected a KQL query"}},
		{"empty query", "checks:\n  - name: a\n    query: ''\n    max: 1\n", []string{"3: checks[0].query: empty; expected a KQL query"}},
		{"blank query", "checks:\n  - name: a\n    query: '  '\n    max: 1\n", []string{"3: checks[0].query: blank; expected a KQL query"}},
		{"unknown key", "checks:\n  - name: a\n    query: q\n    treshold: 1\n", []string{`4: checks[0]: unknown key "treshold"`}},
		{"bad severity", "checks:\n  - name: a\n    query: q\n    max: 1\n    severity: Error\n", []string{`5: checks[0].severity: got "Error"; expected error or warning`}},
		{"bad expect", "checks:\n  - name: a\n    query: q\n    expect: nothing\n", []string{`4: checks[0].expect: got "nothing"; expected empty`}},
		{"bad param value", "checks:\n  - name: a\n    query: q\n    max: 1\n    params:\n      A: [1]\n", []string{"6: checks[0].params.A: got array; expected a string, number or boolean"}},
		{"bad param name", "params:\n  ok: 1\n  2x: 1\nchecks:\n  - {name: a, query: q, max: 1}\n", []string{`3: params: parameter name "2x"`}},
		{"no threshold", "checks:\n  - name: a\n    query: q\n", []string{"2: checks[0] (a): no threshold; expected expect: empty, or at least one of max, min, equals, warn_max, warn_min"}},
		{"expect and max", "checks:\n  - name: a\n    query: q\n    expect: empty\n    max: 1\n", []string{"5: checks[0]: expect: empty passes when there are no rows, so max does not apply"}},
		{"expect and value", "checks:\n  - name: a\n    query: q\n    expect: empty\n    value: X\n", []string{"5: checks[0]: expect: empty counts rows, so value does not apply"}},
		{"bare number string", "checks:\n  - name: a\n    query: q\n    max: '4'\n", []string{`4: checks[0].max: "4" is not a timespan; expected a number, or a timespan such as 4h`}},
		{"duplicate name", "checks:\n  - {name: a, query: q, max: 1}\n  - {name: a, query: q, max: 1}\n", []string{`3: checks[1]: the name "a" is already used by the check on line 2`}},
		{"warn beyond max", "checks:\n  - name: a\n    query: q\n    max: 1\n    warn_max: 2\n", []string{"5: checks[0]: warn_max (2) is beyond max (1)"}},
		{"warn beyond min", "checks:\n  - name: a\n    query: q\n    min: 5\n    warn_min: 4\n", []string{"5: checks[0]: warn_min (4) is beyond min (5)"}},
		{"warn and max of two kinds", "checks:\n  - name: a\n    query: q\n    max: 1\n    warn_max: 2h\n", []string{"5: checks[0]: warn_max (2h) and max (1) are not both numbers or both timespans"}},
		{"schema and Go problems together", "checks:\n  - name: a\n    query: q\n    max: true\n  - name: a\n    query: q\n    min: 4 days\n    severity: high\n", []string{
			"4: checks[0].max: got boolean",
			`5: checks[1]: the name "a" is already used by the check on line 2`,
			`7: checks[1].min: "4 days" is not a timespan`,
			`8: checks[1].severity: got "high"; expected error or warning`,
		}},
		{"misspelt threshold only reported once", "checks:\n  - name: a\n    query: q\n    mx: 1\n", []string{`4: checks[0]: unknown key "mx"`}},
		{"infinite threshold", "checks:\n  - name: a\n    query: q\n    max: .inf\n", []string{`4: checks[0].max: ".inf" is not a timespan`}},
		{"yaml syntax", "checks:\n  - name: a\n    query: \"unterminated\n", []string{"3: invalid YAML: "}},
		{"duplicate key", "checks:\n  - name: a\n    query: q\n    max: 1\n    max: 2\n", []string{`5: invalid YAML: mapping key "max" already defined`}},
		{"two documents", "checks:\n  - {name: a, query: q, max: 1}\n---\nchecks: []\n", []string{"3: a second YAML document; expected one document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("c.yaml", []byte(tt.yaml))
			var ferr *FileError
			if !errors.As(err, &ferr) {
				t.Fatalf("Load = %v, want a *FileError", err)
			}
			if len(ferr.Problems) != len(tt.want) {
				t.Fatalf("%d problems, want %d:\n%v", len(ferr.Problems), len(tt.want), err)
			}
			for i, want := range tt.want {
				line, msg, _ := strings.Cut(want, ": ")
				p := ferr.Problems[i]
				if got := p.Line; line != strconv.Itoa(got) || !strings.Contains(p.Msg, msg) {
					t.Errorf("problem %d: %d: %s\nwant %s: …%s…", i, p.Line, p.Msg, line, msg)
				}
			}
			if !strings.HasPrefix(err.Error(), "c.yaml:") {
				t.Errorf("error does not start with the file name: %v", err)
			}
		})
	}
}
