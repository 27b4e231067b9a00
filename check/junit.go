package check

import (
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	File      string      `xml:"file,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	File      string        `xml:"file,attr"`
	Line      int           `xml:"line,attr,omitempty"`
	Error     *junitProblem `xml:"error"`
	Failure   *junitProblem `xml:"failure"`
	SystemOut *junitText    `xml:"system-out"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// junitText keeps line breaks readable in CI systems' views of the file.
type junitText struct {
	Text string `xml:",cdata"`
}

// WriteJUnit writes the report as JUnit XML, the test report format CI
// systems display: one testsuite for the checks file, one testcase per check.
// A failed check is a <failure> and one that could not run an <error>, each
// with the value and threshold in its message; a warning passes, with the
// warning in <system-out>. started is the time the run began.
func WriteJUnit(w io.Writer, rep *Report, started time.Time) error {
	var total time.Duration
	suite := junitSuite{
		Name:      xmlText("socq check " + rep.File),
		Tests:     len(rep.Results),
		Failures:  rep.Count(Fail),
		Errors:    rep.Count(Error),
		Timestamp: started.UTC().Format("2006-01-02T15:04:05"),
		File:      xmlText(rep.File),
	}
	class := "socq.check." + strings.ReplaceAll(strings.TrimSuffix(filepath.Base(rep.File), filepath.Ext(rep.File)), ".", "_")
	for _, res := range rep.Results {
		total += res.Duration
		c := res.Check
		tc := junitCase{Name: xmlText(c.Name), Classname: xmlText(class), Time: seconds(res.Duration), File: xmlText(rep.File), Line: c.Line}
		body, msg := xmlText(junitBody(res)), xmlText(problemMessage(res))
		switch res.Status {
		case Fail:
			tc.Failure = &junitProblem{Message: msg, Type: "threshold", Text: body}
		case Error:
			tc.Error = &junitProblem{Message: msg, Type: "check could not run", Text: body}
		case Warn:
			tc.SystemOut = &junitText{"warning: " + msg + "\n" + body}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Time = seconds(total)
	out := junitSuites{
		Name: "socq check", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, Suites: []junitSuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// problemMessage is the one-line message of a failure or error: why, with
// the value and the threshold.
func problemMessage(res *Result) string {
	msg := res.Message
	if res.Status != Error || res.ValueText != "" {
		msg = fmt.Sprintf("%s (value %s, threshold %s)", msg, orNone(res.ValueText), res.Check.Threshold())
	}
	return msg
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// junitBody is the text of a failure, error or warning: the check's
// description, value, threshold and details.
func junitBody(res *Result) string {
	var b strings.Builder
	c := res.Check
	if c.Description != "" {
		b.WriteString(c.Description + "\n")
	}
	fmt.Fprintf(&b, "value: %s\nthreshold: %s\nseverity: %s\n", orNone(res.ValueText), c.Threshold(), c.Severity)
	if res.Detail != "" {
		b.WriteString("\n" + res.Detail)
	}
	return b.String()
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}

// xmlText drops the characters XML 1.0 cannot hold (most control
// characters), which a query result or file name could carry.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, s)
}
