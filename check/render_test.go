package check

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	odd := &Check{Name: "odd: name, with 100%", Description: "pipes | and <tags>", Query: "q", Max: num(1), Line: 4}
	return &Report{File: "dir/soc,metrics.yaml", Results: []*Result{
		{Check: &Check{Name: "ok", Query: "q", Max: num(5), Line: 2}, Status: Pass, Value: int64(1), ValueText: "1", Duration: 1500 * time.Microsecond},
		{Check: odd, Status: Fail, Value: 2.0, ValueText: "2", Message: "2 is above max 1"},
		{Check: &Check{Name: "slow", Query: "q", Max: span("1h"), Severity: SeverityWarning, Line: 9}, Status: Warn, Value: 2 * time.Hour, ValueText: "02:00:00", Message: "02:00:00 is above max 1h"},
		{Check: &Check{Name: "broken", Query: "q", Max: num(1), Line: 12}, Status: Error, Message: "unknown column 'X'", Detail: "error: unknown column 'X'\n  | q\u0007 ]]> x\n"},
		{Check: &Check{Name: "inf", Query: "q", Max: num(1), Line: 15}, Status: Fail, Value: math.Inf(1), ValueText: "Infinity", Message: "Infinity is above max 1"},
	}}
}

func TestWriteAnnotations(t *testing.T) {
	var b bytes.Buffer
	if err := WriteAnnotations(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	want := "::error file=dir/soc%2Cmetrics.yaml,line=4,title=socq check odd%3A name%2C with 100%25%3A fail::2 is above max 1\n" +
		"::warning file=dir/soc%2Cmetrics.yaml,line=9,title=socq check slow%3A warn::02:00:00 is above max 1h\n" +
		"::error file=dir/soc%2Cmetrics.yaml,line=12,title=socq check broken%3A error::unknown column 'X'%0Aerror: unknown column 'X'%0A  | q\u0007 ]]> x\n" +
		"::error file=dir/soc%2Cmetrics.yaml,line=15,title=socq check inf%3A fail::Infinity is above max 1\n"
	if b.String() != want {
		t.Errorf("annotations:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteJUnitIsWellFormed(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, sampleReport(), time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suite    struct {
			Timestamp string `xml:"timestamp,attr"`
			Cases     []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Text string `xml:",chardata"`
				} `xml:"error"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, b.String())
	}
	if got.Tests != 5 || got.Failures != 2 || got.Errors != 1 || got.Suite.Timestamp != "2026-10-01T12:00:00" {
		t.Errorf("counts %d/%d/%d, timestamp %q", got.Tests, got.Failures, got.Errors, got.Suite.Timestamp)
	}
	cases := got.Suite.Cases
	if cases[1].Failure == nil || cases[1].Failure.Message != "2 is above max 1 (value 2, threshold max 1)" {
		t.Errorf("failure of %q: %+v", cases[1].Name, cases[1].Failure)
	}
	if !strings.Contains(cases[1].Failure.Text, "pipes | and <tags>\nvalue: 2\nthreshold: max 1\n") {
		t.Errorf("failure text: %q", cases[1].Failure.Text)
	}
	// The control character is dropped, ]]> survives CDATA.
	if cases[3].Error == nil || !strings.Contains(cases[3].Error.Text, "  | q ]]> x\n") {
		t.Errorf("error of %q: %+v", cases[3].Name, cases[3].Error)
	}
	if !strings.HasPrefix(cases[2].SystemOut, "warning: 02:00:00 is above max 1h") {
		t.Errorf("system-out of a warning: %q", cases[2].SystemOut)
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Status string
		Checks []struct {
			Name   string
			Status string
			Value  any
		}
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if got.Status != "error" || got.Checks[0].Value != 1.0 || got.Checks[2].Value != "02:00:00" || got.Checks[4].Value != "Infinity" || got.Checks[3].Value != nil {
		t.Errorf("JSON: %s", b.String())
	}
}

func TestWriteMarkdownEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `| odd: name, with 100%<br><sub>pipes \| and &lt;tags&gt;</sub> | 2 | max 1 | ❌ fail |`) {
		t.Errorf("markdown:\n%s", b.String())
	}
}
