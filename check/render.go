package check

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
)

// Formats are the names WriteFormat accepts.
var Formats = []string{"text", "json", "github", "markdown"}

// WriteFormat writes the report in format: text (a table and the details of
// each check that did not pass), json, github (annotations, then text) or
// markdown.
func WriteFormat(w io.Writer, format string, rep *Report) error {
	switch format {
	case "text":
		return WriteText(w, rep)
	case "json":
		return WriteJSON(w, rep)
	case "github":
		if err := WriteAnnotations(w, rep); err != nil {
			return err
		}
		return WriteText(w, rep)
	case "markdown":
		return WriteMarkdown(w, rep)
	}
	return fmt.Errorf("unknown format %q (use one of: %s)", format, strings.Join(Formats, ", "))
}

// location is "file:line" of a check.
func (r *Report) location(c *Check) string {
	if c.Line > 0 {
		return fmt.Sprintf("%s:%d", r.File, c.Line)
	}
	return r.File
}

// WriteText writes a table of check, value, threshold and status, then for
// every check that did not pass why (with the query error or the offending
// rows), then a summary line.
func WriteText(w io.Writer, rep *Report) error {
	tw := table.NewWriter()
	tw.SetOutputMirror(w)
	tw.AppendHeader(table.Row{"check", "value", "threshold", "status"})
	for _, res := range rep.Results {
		tw.AppendRow(table.Row{res.Check.Name, res.ValueText, res.Check.Threshold(), res.Status.String()})
	}
	style := table.StyleLight
	style.Format.Header = 0
	tw.SetStyle(style)
	tw.Render()
	for _, res := range rep.Results {
		if res.Status == Pass {
			continue
		}
		fmt.Fprintf(w, "\n%s %s (%s): %s\n", strings.ToUpper(res.Status.String()), res.Check.Name, rep.location(res.Check), res.Message)
		if res.Detail != "" {
			fmt.Fprint(w, indent(res.Detail, "  "))
		}
	}
	_, err := fmt.Fprintf(w, "\n%s\n", rep.Summary())
	return err
}

func indent(text, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if strings.TrimSpace(line) == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(prefix + strings.TrimRight(line, "\n") + "\n")
	}
	return b.String()
}

// jsonResult is one check in JSON output.
type jsonResult struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Severity    string  `json:"severity"`
	Line        int     `json:"line"`
	Status      Status  `json:"status"`
	Value       any     `json:"value"`
	ValueText   string  `json:"value_text"`
	Threshold   string  `json:"threshold"`
	Message     string  `json:"message,omitempty"`
	Detail      string  `json:"detail,omitempty"`
	Seconds     float64 `json:"seconds"`
}

// WriteJSON writes {"file", "status", "summary", "counts", "checks": […]}.
// A timespan value is its Kusto text; numbers are numbers.
func WriteJSON(w io.Writer, rep *Report) error {
	out := struct {
		File    string         `json:"file"`
		Status  Status         `json:"status"`
		Summary string         `json:"summary"`
		Counts  map[string]int `json:"counts"`
		Checks  []jsonResult   `json:"checks"`
	}{
		File: rep.File, Status: rep.Worst(), Summary: rep.Summary(),
		Counts: map[string]int{"pass": rep.Count(Pass), "warn": rep.Count(Warn), "fail": rep.Count(Fail), "error": rep.Count(Error)},
		Checks: []jsonResult{},
	}
	for _, res := range rep.Results {
		v := res.Value
		switch x := v.(type) {
		case time.Duration, time.Time, json.RawMessage:
			v = res.ValueText // as Kusto prints it
		case float64:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				v = res.ValueText // JSON has no infinity
			}
		}
		out.Checks = append(out.Checks, jsonResult{
			Name: res.Check.Name, Description: res.Check.Description, Severity: string(res.Check.Severity),
			Line: res.Check.Line, Status: res.Status, Value: v, ValueText: res.ValueText,
			Threshold: res.Check.Threshold(), Message: res.Message, Detail: res.Detail,
			Seconds: res.Duration.Seconds(),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

var statusMark = map[Status]string{Pass: "✅ pass", Warn: "⚠️ warn", Fail: "❌ fail", Error: "💥 error"}

// WriteMarkdown writes a heading, the summary, a table and the details of
// the checks that did not pass: the GitHub step summary.
func WriteMarkdown(w io.Writer, rep *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### socq check: %s\n\n%s\n\n", mdCell(rep.File), rep.Summary())
	b.WriteString("| Check | Value | Threshold | Status |\n|---|---:|---|---|\n")
	for _, res := range rep.Results {
		name := mdCell(res.Check.Name)
		if res.Check.Description != "" {
			name = fmt.Sprintf("%s<br><sub>%s</sub>", name, mdCell(res.Check.Description))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, mdCell(res.ValueText), mdCell(res.Check.Threshold()), statusMark[res.Status])
	}
	for _, res := range rep.Results {
		if res.Status == Pass {
			continue
		}
		fmt.Fprintf(&b, "\n**%s** `%s` (%s): %s\n", strings.ToUpper(res.Status.String()), res.Check.Name, rep.location(res.Check), mdText(res.Message))
		if res.Detail != "" {
			fmt.Fprintf(&b, "\n```\n%s\n```\n", strings.TrimRight(strings.ReplaceAll(res.Detail, "```", "'''"), "\n"))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(mdText(s), "|", `\|`)
}

func mdText(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "`", "'").Replace(s)
}

// WriteAnnotations writes a GitHub Actions workflow command per check that
// did not pass: ::warning for warn, ::error for fail and error, pointing at
// the check's line in the checks file.
func WriteAnnotations(w io.Writer, rep *Report) error {
	for _, res := range rep.Results {
		cmd := "error"
		switch res.Status {
		case Pass:
			continue
		case Warn:
			cmd = "warning"
		}
		props := []string{"file=" + escapeProperty(rep.File)}
		if res.Check.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", res.Check.Line))
		}
		props = append(props, "title="+escapeProperty("socq check "+res.Check.Name+": "+res.Status.String()))
		msg := res.Message
		if res.Detail != "" {
			msg += "\n" + strings.TrimRight(res.Detail, "\n")
		}
		if _, err := fmt.Fprintf(w, "::%s %s::%s\n", cmd, strings.Join(props, ","), escapeData(msg)); err != nil {
			return err
		}
	}
	return nil
}

// escapeData escapes a workflow command's message as the Actions runner
// reads it back.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command property value.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
