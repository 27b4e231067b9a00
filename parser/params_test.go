package parser

import (
	"strings"
	"testing"
	"time"
)

func TestSubstituteParameters(t *testing.T) {
	now := time.Date(2026, 9, 20, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		text   string
		values map[string]string
		want   string
		err    string
	}{
		{"T | where TimeGenerated {TimeRange}", nil, "T | where TimeGenerated > ago(1d)", ""},
		{"T | where TimeGenerated {TimeRange}", map[string]string{"TimeRange": "7d"}, "T | where TimeGenerated > ago(7d)", ""},
		{"T | where TimeGenerated between ({TimeRange:start} .. {TimeRange:end})", map[string]string{"TimeRange": "2h"},
			"T | where TimeGenerated between (datetime(2026-09-20T10:00:00Z) .. datetime(2026-09-20T12:00:00Z))", ""},
		{"T | where TimeGenerated {TimeRange:query}", map[string]string{"TimeRange": "2026-09-01..2026-09-02"},
			"T | where TimeGenerated between (datetime(2026-09-01T00:00:00Z) .. datetime(2026-09-02T00:00:00Z))", ""},
		{"bin(TimeGenerated, {TimeRange:grain})", nil, "bin(TimeGenerated, 30m)", ""},
		{"T | where Severity == '{Severity}' and Owner == '{Owner:label}'", map[string]string{"Severity": "High", "Owner": "Mei"},
			"T | where Severity == 'High' and Owner == 'Mei'", ""},
		{"T | where Severity in ({Severity}) or '{Severity:label}' == \"All\"", map[string]string{"Severity": "'*'", "Severity:label": "All"},
			"T | where Severity in ('*') or 'All' == \"All\"", ""},
		{"T | where CreatedTime >= {TimeBrush:start} and CreatedTime <= {TimeBrush:end}", map[string]string{"TimeBrush": "1d"},
			"T | where CreatedTime >= datetime(2026-09-19T12:00:00Z) and CreatedTime <= datetime(2026-09-20T12:00:00Z)", ""},
		{"T | where CreatedTime >= {TimeBrush:start}", nil, "", "the workbook time range parameter 'TimeBrush' is not set"},
		{"T // in {Workspace}\n| where x == 1 // {Missing:label}", nil, "T // in {Workspace}\n| where x == 1 // {Missing:label}", ""},
		{`T | extend u = "https://x/{Id}", v = @'c:\{Id}' // {Id}`, map[string]string{"Id": "7"}, `T | extend u = "https://x/7", v = @'c:\7' // {Id}`, ""},
		{"T | where x == '{Missing}'", nil, "", "the workbook parameter 'Missing' is not set"},
		{"T | where x {TimeRange}", map[string]string{"TimeRange": "soon"}, "", "neither a timespan"},
		{`T | where x matches regex "a{2}"`, nil, `T | where x matches regex "a{2}"`, ""},
	}
	for _, c := range cases {
		got, err := SubstituteParameters(c.text, c.values, now)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err = %v, want %q", c.text, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q:\n got %q, %v\nwant %q", c.text, got, err, c.want)
		}
	}
}
