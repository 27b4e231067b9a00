package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/socq/socq/output"
)

// Status is the outcome of one check.
type Status int

// Statuses, from best to worst.
const (
	Pass  Status = iota
	Warn         // a warn_max/warn_min was crossed, or a warning-severity check breached
	Fail         // a max, min, equals or expect: empty was breached
	Error        // the check could not run or its result could not be judged
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Warn:
		return "warn"
	case Fail:
		return "fail"
	}
	return "error"
}

// MarshalText makes a Status a JSON string.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Rows is the result of a check's query: column names and the rows, each a
// value per column typed as engine.DB.Query gives them (string, int64,
// float64, bool, time.Time, time.Duration, json.RawMessage, nil).
type Rows struct {
	Columns []string
	Values  [][]any
}

// Runner runs a check's KQL with its workbook parameters. An error with a
// Detail() string method (a query error with a caret under the query) has
// that shown under the check.
type Runner interface {
	Run(ctx context.Context, query string, params map[string]string) (*Rows, error)
}

// Result is the outcome of one check.
type Result struct {
	Check     *Check
	Status    Status
	Value     any    // the measured value (the row count for expect: empty); nil if none
	ValueText string // Value as printed
	Message   string // one line: why it warned, failed or errored; empty on pass
	Detail    string // more lines: the query error, or the offending rows
	Duration  time.Duration
}

// Threshold describes the check's thresholds as written: "max 4, warn_max 1".
func (c *Check) Threshold() string {
	if c.ExpectEmpty {
		return "no rows"
	}
	var parts []string
	for _, l := range []struct {
		key string
		l   *Limit
	}{{"min", c.Min}, {"max", c.Max}, {"warn_min", c.WarnMin}, {"warn_max", c.WarnMax}} {
		if l.l != nil {
			parts = append(parts, l.key+" "+l.l.Text)
		}
	}
	if c.Equals != nil {
		parts = append([]string{"equals " + c.Equals.Text}, parts...)
	}
	return strings.Join(parts, ", ")
}

// Report is the outcome of a checks file.
type Report struct {
	File    string
	Results []*Result
}

// Count is how many results have status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Worst is the worst status in the report (Pass when it is empty).
func (r *Report) Worst() Status {
	w := Pass
	for _, res := range r.Results {
		w = max(w, res.Status)
	}
	return w
}

// Summary is one line: "8 checks: 5 passed, 1 warned, 1 failed, 1 could not run".
func (r *Report) Summary() string {
	n := len(r.Results)
	s := fmt.Sprintf("%d %s: %d passed", n, plural(n, "check", "checks"), r.Count(Pass))
	if c := r.Count(Warn); c > 0 {
		s += fmt.Sprintf(", %d warned", c)
	}
	if c := r.Count(Fail); c > 0 {
		s += fmt.Sprintf(", %d failed", c)
	}
	if c := r.Count(Error); c > 0 {
		s += fmt.Sprintf(", %d could not run", c)
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Run runs every check of f through r, in order. params (from the command
// line) override the file's params; a check's own params override both. It
// stops early only when ctx is done, returning ctx's error.
func Run(ctx context.Context, f *File, r Runner, params map[string]string) (*Report, error) {
	rep := &Report{File: f.Name}
	for _, c := range f.Checks {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		values := map[string]string{}
		maps.Copy(values, f.Params)
		maps.Copy(values, params)
		maps.Copy(values, c.Params)
		start := time.Now()
		rows, err := r.Run(ctx, c.Query, values)
		elapsed := time.Since(start)
		var res *Result
		if err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			res = errorResult(c, err)
		} else {
			res = Evaluate(c, rows)
		}
		res.Duration = elapsed
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// Errored is a report in which every check of f could not run because of
// err (the database is missing, say), so each still shows up as an error.
func Errored(f *File, err error) *Report {
	rep := &Report{File: f.Name}
	for _, c := range f.Checks {
		rep.Results = append(rep.Results, errorResult(c, err))
	}
	return rep
}

func errorResult(c *Check, err error) *Result {
	res := &Result{Check: c, Status: Error, Message: firstLine(err.Error())}
	var d interface{ Detail() string }
	if errors.As(err, &d) {
		res.Detail = d.Detail()
	}
	return res
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// maxDetailRows is how many offending rows an expect: empty check shows.
const maxDetailRows = 10

// Evaluate judges a query result against the check's thresholds.
func Evaluate(c *Check, rows *Rows) *Result {
	res := &Result{Check: c}
	if c.ExpectEmpty {
		n := len(rows.Values)
		res.Value, res.ValueText = int64(n), fmt.Sprintf("%d %s", n, plural(n, "row", "rows"))
		if n == 0 {
			return res
		}
		res.Status = breach(c)
		res.Message = fmt.Sprintf("the query returned %d %s; expected none", n, plural(n, "row", "rows"))
		res.Detail = rowsText(rows, maxDetailRows)
		return res
	}
	v, err := measure(c, rows)
	if err != nil {
		res.Status, res.Message = Error, err.Error()
		return res
	}
	res.Value, res.ValueText = v.raw, v.text()
	var fails, warns []string
	check := func(l *Limit, key, op string, beyond func(int) bool, into *[]string) bool {
		if l == nil {
			return true
		}
		cmp, err := v.compare(l)
		if err != nil {
			res.Status, res.Message = Error, fmt.Sprintf("%s %s: %v", key, l.Text, err)
			return false
		}
		if beyond(cmp) {
			*into = append(*into, fmt.Sprintf("%s %s %s %s", v.text(), op, key, l.Text))
		}
		return true
	}
	above := func(c int) bool { return c > 0 }
	below := func(c int) bool { return c < 0 }
	if !check(c.Max, "max", "is above", above, &fails) ||
		!check(c.Min, "min", "is below", below, &fails) ||
		!check(c.WarnMax, "warn_max", "is above", above, &warns) ||
		!check(c.WarnMin, "warn_min", "is below", below, &warns) {
		return res
	}
	if c.Equals != nil {
		eq, err := v.equals(c.Equals)
		if err != nil {
			res.Status, res.Message = Error, fmt.Sprintf("equals %s: %v", c.Equals.Text, err)
			return res
		}
		if !eq {
			fails = append([]string{fmt.Sprintf("%s is not equal to %s", v.text(), c.Equals.Text)}, fails...)
		}
	}
	switch {
	case len(fails) > 0:
		res.Status, res.Message = breach(c), strings.Join(fails, "; ")
	case len(warns) > 0:
		res.Status, res.Message = Warn, strings.Join(warns, "; ")
	}
	return res
}

// breach is what a breached hard threshold means for the check.
func breach(c *Check) Status {
	if c.Severity == SeverityWarning {
		return Warn
	}
	return Fail
}

// value is a measured value of one of the kinds thresholds compare with.
type value struct {
	raw  any
	kind string // "number", "timespan", "string", "bool", "datetime"
	num  float64
	span time.Duration
	str  string
	b    bool
}

func (v value) text() string {
	if v.kind == "number" {
		return formatNumber(v.num)
	}
	return output.FormatCell(v.raw)
}

// formatNumber prints a number with at most three decimals.
func formatNumber(f float64) string {
	if math.Abs(f) < 1e15 {
		r := math.Round(f*1000) / 1000
		if r == 0 {
			r = 0 // no "-0"
		}
		return strconv.FormatFloat(r, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// measure picks the check's value out of a one-row result.
func measure(c *Check, rows *Rows) (value, error) {
	switch n := len(rows.Values); {
	case n == 0:
		return value{}, errors.New("the query returned no rows; expected one row holding the value (or use expect: empty to require none)")
	case n > 1:
		return value{}, fmt.Errorf("the query returned %d rows; expected one row holding the value (summarize the rows, or use expect: empty)", n)
	}
	col := -1
	switch {
	case c.Value != "":
		for i, name := range rows.Columns {
			if name == c.Value {
				col = i
			}
		}
		if col < 0 {
			return value{}, fmt.Errorf("the result has no column %q; its columns are %s", c.Value, strings.Join(rows.Columns, ", "))
		}
	case len(rows.Columns) == 1:
		col = 0
	default:
		return value{}, fmt.Errorf("the query returns %d columns (%s); say which holds the value with value: COLUMN", len(rows.Columns), strings.Join(rows.Columns, ", "))
	}
	name := rows.Columns[col]
	raw := rows.Values[0][col]
	v := value{raw: raw}
	switch x := raw.(type) {
	case nil:
		return value{}, fmt.Errorf("%s is null: there was nothing to measure (no incidents in the time range?)", name)
	case int64:
		v.kind, v.num = "number", float64(x)
	case float64:
		if math.IsNaN(x) {
			return value{}, fmt.Errorf("%s is NaN: there was nothing to measure", name)
		}
		v.kind, v.num = "number", x
	case time.Duration:
		v.kind, v.span = "timespan", x
	case string:
		v.kind, v.str = "string", x
	case bool:
		v.kind, v.b = "bool", x
	case time.Time:
		v.kind = "datetime"
	case json.RawMessage:
		var d any
		dec := json.NewDecoder(strings.NewReader(string(x)))
		dec.UseNumber()
		if err := dec.Decode(&d); err != nil {
			return value{}, fmt.Errorf("%s: cannot read %s", name, x)
		}
		switch d := d.(type) {
		case json.Number:
			f, _ := d.Float64()
			v.kind, v.num = "number", f
		case string:
			v.kind, v.str = "string", d
		case bool:
			v.kind, v.b = "bool", d
		default:
			return value{}, fmt.Errorf("%s is a dynamic array or bag (%s); expected a number, timespan, string or boolean", name, x)
		}
	default:
		return value{}, fmt.Errorf("%s has a value of type %T, which checks cannot compare", name, raw)
	}
	return v, nil
}

// compare orders the value against a limit: -1, 0 or +1.
func (v value) compare(l *Limit) (int, error) {
	switch {
	case v.kind == "number" && !l.IsSpan:
		return cmpFloat(v.num, l.Number), nil
	case v.kind == "timespan" && l.IsSpan:
		return cmpFloat(float64(v.span), float64(l.Span)), nil
	case v.kind == "timespan":
		return 0, fmt.Errorf("the value is a timespan (%s); expected the threshold as a timespan, such as %s", v.text(), spanHint(l.Number))
	case v.kind == "number":
		return 0, fmt.Errorf("the value is a number (%s), the threshold a timespan; expected a number, or a query that returns a timespan (without / 1h)", v.text())
	}
	return 0, fmt.Errorf("the value is a %s (%s); max and min compare numbers and timespans", v.kind, v.text())
}

func spanHint(n float64) string {
	return strconv.FormatFloat(n, 'f', -1, 64) + "h"
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (v value) equals(e *Expected) (bool, error) {
	switch {
	case v.kind == "number" && e.Number != nil:
		return v.num == *e.Number, nil
	case v.kind == "timespan" && e.Span != nil:
		return v.span == *e.Span, nil
	case v.kind == "string" && e.String != nil:
		return v.str == *e.String, nil
	case v.kind == "bool" && e.Bool != nil:
		return v.b == *e.Bool, nil
	case v.kind == "datetime" && e.String != nil:
		return v.text() == *e.String, nil
	}
	return false, fmt.Errorf("the value is a %s (%s); expected equals to be a %s too", v.kind, v.text(), v.kind)
}

// rowsText prints up to limit rows as "Col=value, …" lines.
func rowsText(rows *Rows, limit int) string {
	var b strings.Builder
	for i, r := range rows.Values {
		if i == limit {
			fmt.Fprintf(&b, "… and %d more\n", len(rows.Values)-limit)
			break
		}
		for j, v := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			s := strings.ReplaceAll(output.FormatCell(v), "\n", " ")
			if n := []rune(s); len(n) > 80 {
				s = string(n[:79]) + "…"
			}
			b.WriteString(rows.Columns[j] + "=" + s)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
