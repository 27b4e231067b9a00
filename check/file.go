// Package check runs SOC metric gates: a YAML file of checks, each a KQL
// query over the incident history and thresholds for its value, evaluated
// to pass, warn, fail or error, and reported as a table, JSON, Markdown,
// GitHub annotations or JUnit XML.
//
// The package is pure logic: Load reads and validates a checks file (against
// the JSON Schema in schema.json, with each problem at its file:line), Run
// sends each query to a Runner (the CLI's runs KQL on socq's database) and
// Evaluate compares a result with a check's thresholds.
package check

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	yamlparser "github.com/goccy/go-yaml/parser"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/socq/socq/parser"
)

//go:embed schema.json
var schemaJSON []byte

// Schema returns the JSON Schema of a checks file (draft 2020-12), which
// editors that understand JSON Schema for YAML can use for completion.
func Schema() []byte { return bytes.Clone(schemaJSON) }

// File is a loaded, valid checks file.
type File struct {
	Name   string            // the file name as given, for messages
	Params map[string]string // workbook parameters for every check
	Checks []*Check
}

// Check is one metric gate.
type Check struct {
	Name        string
	Description string
	Severity    Severity
	Query       string
	Params      map[string]string // the check's own workbook parameters
	Value       string            // the column holding the value; "" for the only column
	ExpectEmpty bool              // pass when the query returns no rows
	Max, Min    *Limit
	WarnMax     *Limit
	WarnMin     *Limit
	Equals      *Expected
	Line        int // where the check starts in the file
}

// Severity says what a breached threshold does: fail the run, or warn.
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Limit is a max, min, warn_max or warn_min: a number, or a timespan for
// values that are timespans.
type Limit struct {
	Text   string // as written in the file
	Number float64
	Span   time.Duration
	IsSpan bool
}

// Expected is the value of equals: a number, a string (which may also read
// as a timespan) or a boolean.
type Expected struct {
	Text   string // as written
	Number *float64
	String *string
	Span   *time.Duration // when String reads as a timespan
	Bool   *bool
}

// Problem is one thing wrong in a checks file.
type Problem struct {
	Line int    // 1-based; 0 when unknown
	Msg  string // what is wrong and what is expected
}

// FileError is an invalid checks file: every problem found, in line order.
type FileError struct {
	File     string
	Problems []Problem
}

func (e *FileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if p.Line > 0 {
			lines[i] = fmt.Sprintf("%s:%d: %s", e.File, p.Line, p.Msg)
		} else {
			lines[i] = fmt.Sprintf("%s: %s", e.File, p.Msg)
		}
	}
	return strings.Join(lines, "\n")
}

// expected describes what each key takes, for error messages.
var expected = map[string]string{
	"checks":      "a list of checks, each with name and query",
	"params":      "a map of parameter names to values, such as TimeRange: 7d",
	"name":        "a non-empty string, unique in the file",
	"description": "a string",
	"severity":    "error or warning",
	"query":       "a KQL query (use 'query: |' for one over several lines)",
	"value":       "the name of a column of the query's result",
	"expect":      "empty",
	"max":         "a number, or a timespan such as 4h",
	"min":         "a number, or a timespan such as 4h",
	"warn_max":    "a number, or a timespan such as 4h",
	"warn_min":    "a number, or a timespan such as 4h",
	"equals":      "a number, timespan, string or boolean",
}

var (
	topKeys   = []string{"params", "checks"}
	checkKeys = []string{"name", "description", "severity", "query", "value", "expect", "max", "min", "equals", "warn_max", "warn_min", "params"}
	limitKeys = []string{"max", "min", "equals", "warn_max", "warn_min"}
)

// compileSchema compiles the embedded schema. It is cheap enough to do per
// Load, and keeps the package free of mutable globals.
func compileSchema() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("checks schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		return nil, fmt.Errorf("checks schema: %w", err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		return nil, fmt.Errorf("checks schema: %w", err)
	}
	return sch, nil
}

// Load parses and validates a checks file. An invalid file is a *FileError
// naming each problem with its line and what is expected there.
func Load(name string, data []byte) (*File, error) {
	fail := func(line int, format string, args ...any) error {
		return &FileError{File: name, Problems: []Problem{{Line: line, Msg: fmt.Sprintf(format, args...)}}}
	}
	astFile, err := yamlparser.ParseBytes(data, 0)
	if err != nil {
		return nil, fail(yamlErrorLine(err), "invalid YAML: %s", yamlErrorMessage(err))
	}
	if len(astFile.Docs) == 0 || astFile.Docs[0].Body == nil {
		return nil, fail(0, "the file is empty; expected a map with 'checks:', a list of checks")
	}
	if len(astFile.Docs) > 1 {
		return nil, fail(docLine(astFile.Docs[1]), "a second YAML document; expected one document")
	}
	root := astFile.Docs[0].Body
	var raw any
	if err := yaml.NodeToValue(root, &raw); err != nil {
		return nil, fail(yamlErrorLine(err), "invalid YAML: %s", yamlErrorMessage(err))
	}
	// JSON is the schema's data model: round-trip through it so numbers
	// are json.Number and maps have string keys.
	text, err := json.Marshal(jsonable(raw))
	if err != nil {
		return nil, fail(0, "cannot read the file as data: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(text))
	if err != nil {
		return nil, fail(0, "cannot read the file as data: %v", err)
	}
	sch, err := compileSchema()
	if err != nil {
		return nil, err
	}
	pos := positions{root: root}
	// The schema's problems and the ones only Go sees (names, thresholds)
	// are reported together, so one run shows everything to fix.
	var problems []Problem
	if err := sch.Validate(doc); err != nil {
		var verr *jsonschema.ValidationError
		if !errors.As(err, &verr) {
			return nil, fail(0, "%v", err)
		}
		problems = schemaProblems(verr, doc, pos)
	}
	f, more := build(name, doc, pos)
	if problems = append(problems, more...); len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int { return a.Line - b.Line })
		return nil, &FileError{File: name, Problems: slices.Compact(problems)}
	}
	return f, nil
}

// jsonable turns YAML's decoded values into ones encoding/json accepts:
// maps with non-string keys get string keys, datetimes and infinities text.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = jsonable(x)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = jsonable(x)
		}
		return v
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case float64:
		// JSON has no infinity or NaN: keep them as YAML wrote them, so
		// they are reported as strings that are not thresholds.
		switch {
		case math.IsInf(v, 1):
			return ".inf"
		case math.IsInf(v, -1):
			return "-.inf"
		case math.IsNaN(v):
			return ".nan"
		}
	}
	return v
}

func yamlErrorLine(err error) int {
	var yerr yaml.Error
	if errors.As(err, &yerr) && yerr.GetToken() != nil {
		return yerr.GetToken().Position.Line
	}
	return 0
}

func yamlErrorMessage(err error) string {
	var yerr yaml.Error
	if errors.As(err, &yerr) {
		return yerr.GetMessage()
	}
	return err.Error()
}

func docLine(d *ast.DocumentNode) int {
	if d.Start != nil {
		return d.Start.Position.Line
	}
	if d.Body != nil && d.Body.GetToken() != nil {
		return d.Body.GetToken().Position.Line
	}
	return 0
}

// positions finds the line of a value or key in the YAML document.
type positions struct{ root ast.Node }

// node returns the node at path (map keys and list indexes), or the deepest
// node found on the way.
func (p positions) node(path []string) ast.Node {
	n := p.root
	for _, seg := range path {
		next, _ := child(n, seg)
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// line is the line of the value at path. For a map or list that is where
// its first entry starts.
func (p positions) line(path []string) int {
	n := unwrap(p.node(path))
	if n == nil {
		return 0
	}
	switch m := n.(type) {
	case *ast.MappingNode:
		if len(m.Values) > 0 {
			return keyLine(m.Values[0])
		}
	case *ast.MappingValueNode:
		return keyLine(m)
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Position.Line
	}
	return 0
}

// scalarText is a number as written in the file (1.5e2, not 150), or
// fallback when the value at path is not a plain scalar.
func (p positions) scalarText(path []string, fallback string) string {
	switch n := unwrap(p.node(path)).(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		if tk := n.GetToken(); tk != nil && tk.Value != "" {
			return tk.Value
		}
	}
	return fallback
}

// keyLine is the line of key in the map at path, or of the map itself.
func (p positions) keyLine(path []string, key string) int {
	if _, mv := child(p.node(path), key); mv != nil {
		return keyLine(mv)
	}
	return p.line(path)
}

func keyLine(mv *ast.MappingValueNode) int {
	if tk := mv.Key.GetToken(); tk != nil {
		return tk.Position.Line
	}
	return 0
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch t := n.(type) {
		case *ast.TagNode:
			n = t.Value
		case *ast.AnchorNode:
			n = t.Value
		default:
			return n
		}
	}
}

// child steps from n to the value of map key seg or list index seg; for a
// map it also returns the key-value pair.
func child(n ast.Node, seg string) (ast.Node, *ast.MappingValueNode) {
	switch m := unwrap(n).(type) {
	case *ast.MappingNode:
		for _, mv := range m.Values {
			if keyText(mv) == seg {
				return mv.Value, mv
			}
		}
	case *ast.MappingValueNode:
		if keyText(m) == seg {
			return m.Value, m
		}
	case *ast.SequenceNode:
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(m.Values) {
			return m.Values[i], nil
		}
	}
	return nil, nil
}

func keyText(mv *ast.MappingValueNode) string {
	if tk := mv.Key.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// where names a place in the file the way a reader finds it: checks[2].max.
func where(path []string) string {
	var b strings.Builder
	for _, seg := range path {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	if b.Len() == 0 {
		return "the file"
	}
	return b.String()
}

// expectation is what the key at the end of path takes.
func expectation(path []string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if _, err := strconv.Atoi(path[i]); err == nil {
			if i > 0 && path[i-1] == "checks" && i == len(path)-1 {
				return "a check: a map with name, query and thresholds"
			}
			continue
		}
		if i > 0 && path[i-1] == "params" {
			return "a string, number or boolean"
		}
		if e, ok := expected[path[i]]; ok {
			return e
		}
		break
	}
	if len(path) == 0 {
		return "a map with 'checks:', a list of checks"
	}
	return "a valid value"
}

// schemaProblems turns the schema validator's error tree into one problem
// per leaf, each at its line with what is expected there.
func schemaProblems(verr *jsonschema.ValidationError, doc any, pos positions) []Problem {
	var leaves []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		// A propertyNames error's causes are located in the name, not
		// the document: report the name at its key instead.
		if _, names := e.ErrorKind.(*kind.PropertyNames); names || len(e.Causes) == 0 {
			leaves = append(leaves, e)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(verr)
	var out []Problem
	for _, e := range leaves {
		out = append(out, leafProblems(e, doc, pos)...)
	}
	slices.SortStableFunc(out, func(a, b Problem) int { return a.Line - b.Line })
	return slices.Compact(out)
}

// paramsPaths are the places params maps may be: the top level's and each
// check's.
func paramsPaths(doc any) [][]string {
	paths := [][]string{{"params"}}
	if checks, ok := valueAt(doc, []string{"checks"}).([]any); ok {
		for i := range checks {
			paths = append(paths, []string{"checks", strconv.Itoa(i), "params"})
		}
	}
	return paths
}

// valueAt is the decoded value at path, or nil.
func valueAt(v any, path []string) any {
	for _, seg := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func leafProblems(e *jsonschema.ValidationError, doc any, pos positions) []Problem {
	path := e.InstanceLocation
	at := where(path)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		var out []Problem
		for _, m := range k.Missing {
			what := "missing " + m
			if len(path) == 0 {
				what = "missing 'checks:'"
			}
			out = append(out, Problem{pos.line(path), fmt.Sprintf("%s: %s; expected %s", at, what, expectation(append(slices.Clone(path), m)))})
		}
		return out
	case *kind.AdditionalProperties:
		allowed := topKeys
		if len(path) > 0 {
			allowed = checkKeys
		}
		var out []Problem
		for _, key := range k.Properties {
			msg := fmt.Sprintf("%s: unknown key %q; expected one of: %s", at, key, strings.Join(allowed, ", "))
			if s := parser.Suggest(key, allowed); s != "" {
				msg += " (did you mean " + s + "?)"
			}
			out = append(out, Problem{pos.keyLine(path, key), msg})
		}
		return out
	case *kind.Type:
		return []Problem{{pos.line(path), fmt.Sprintf("%s: got %s; expected %s", at, k.Got, expectation(path))}}
	case *kind.Enum:
		got, _ := json.Marshal(k.Got)
		return []Problem{{pos.line(path), fmt.Sprintf("%s: got %s; expected %s", at, got, expectation(path))}}
	case *kind.MinLength:
		return []Problem{{pos.line(path), fmt.Sprintf("%s: empty; expected %s", at, expectation(path))}}
	case *kind.MinItems:
		return []Problem{{pos.line(path), fmt.Sprintf("%s: no checks; expected %s", at, expectation(path))}}
	case *kind.PropertyNames:
		// Only parameter names are constrained. The validator's location
		// for this error is unreliable, so find the name's params maps.
		var out []Problem
		for _, p := range paramsPaths(doc) {
			if m, ok := valueAt(doc, p).(map[string]any); ok {
				if _, has := m[k.Property]; has {
					out = append(out, Problem{pos.keyLine(p, k.Property), fmt.Sprintf("%s: parameter name %q; expected letters, digits and _, not starting with a digit", where(p), k.Property)})
				}
			}
		}
		return out
	}
	return []Problem{{pos.line(path), fmt.Sprintf("%s: %v", at, e.ErrorKind)}}
}

// build turns the schema-valid document into a File, checking what the
// schema cannot say: unique names, a threshold or expect: empty on each
// check, and thresholds that read as numbers or timespans.
func build(name string, doc any, pos positions) (*File, []Problem) {
	var problems []Problem
	add := func(line int, format string, args ...any) {
		problems = append(problems, Problem{line, fmt.Sprintf(format, args...)})
	}
	top, _ := doc.(map[string]any)
	f := &File{Name: name, Params: params(top["params"])}
	seen := map[string]int{}
	checks, _ := top["checks"].([]any)
	for i, item := range checks {
		// What is not a map, or not a string where one is needed, the
		// schema has already reported.
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		path := []string{"checks", strconv.Itoa(i)}
		at := where(path)
		c := &Check{Severity: SeverityError, Params: params(m["params"]), Line: pos.line(path)}
		c.Name, _ = m["name"].(string)
		query, hasQuery := m["query"].(string)
		c.Query = query
		keyLine := func(key string) int { return pos.keyLine(path, key) }
		if first, dup := seen[c.Name]; dup && c.Name != "" {
			add(keyLine("name"), "%s: the name %q is already used by the check on line %d; expected a unique name", at, c.Name, first)
		} else if c.Name != "" {
			seen[c.Name] = keyLine("name")
		}
		if hasQuery && query != "" && strings.TrimSpace(query) == "" {
			add(keyLine("query"), "%s.query: blank; expected %s", at, expected["query"])
		}
		if s, ok := m["description"].(string); ok {
			c.Description = s
		}
		if s, ok := m["severity"].(string); ok {
			c.Severity = Severity(s)
		}
		if s, ok := m["value"].(string); ok {
			c.Value = s
		}
		c.ExpectEmpty = m["expect"] == "empty"
		_, hasExpect := m["expect"]
		var limits []string
		for _, k := range limitKeys {
			if _, ok := m[k]; ok {
				limits = append(limits, k)
			}
		}
		switch {
		case c.ExpectEmpty && len(limits) > 0:
			add(keyLine(limits[0]), "%s: expect: empty passes when there are no rows, so %s does not apply; expected either expect: empty or thresholds", at, strings.Join(limits, ", "))
		case c.ExpectEmpty && c.Value != "":
			add(keyLine("value"), "%s: expect: empty counts rows, so value does not apply; expected either expect: empty or value with thresholds", at)
		case !hasExpect && len(limits) == 0 && !hasUnknownKey(m):
			// (With an unknown key, likely a misspelt threshold, the
			// schema's message says enough.)
			named := at
			if c.Name != "" {
				named += " (" + c.Name + ")"
			}
			add(c.Line, "%s: no threshold; expected expect: empty, or at least one of max, min, equals, warn_max, warn_min", named)
		}
		limit := func(key string) *Limit {
			v := m[key]
			switch v.(type) {
			case json.Number, string:
			default:
				return nil // missing, or a type the schema reported
			}
			l, err := parseLimit(v)
			if err != nil {
				add(keyLine(key), "%s.%s: %v; expected %s", at, key, err, expected[key])
				return nil
			}
			if !l.IsSpan {
				l.Text = pos.scalarText(append(slices.Clone(path), key), l.Text)
			}
			return l
		}
		c.Max, c.Min, c.WarnMax, c.WarnMin = limit("max"), limit("min"), limit("warn_max"), limit("warn_min")
		if v, ok := m["equals"]; ok && v != nil {
			c.Equals = parseExpected(v)
			if c.Equals.Number != nil {
				c.Equals.Text = pos.scalarText(append(slices.Clone(path), "equals"), c.Equals.Text)
			}
		}
		for _, pair := range []struct {
			warn, hard *Limit
			wk, hk     string
			beyond     func(a, b float64) bool
		}{
			{c.WarnMax, c.Max, "warn_max", "max", func(a, b float64) bool { return a > b }},
			{c.WarnMin, c.Min, "warn_min", "min", func(a, b float64) bool { return a < b }},
		} {
			if pair.warn == nil || pair.hard == nil {
				continue
			}
			if pair.warn.IsSpan != pair.hard.IsSpan {
				add(keyLine(pair.wk), "%s: %s (%s) and %s (%s) are not both numbers or both timespans; expected the same kind", at, pair.wk, pair.warn.Text, pair.hk, pair.hard.Text)
				continue
			}
			if pair.beyond(pair.warn.value(), pair.hard.value()) {
				add(keyLine(pair.wk), "%s: %s (%s) is beyond %s (%s), so the warning could never show; expected a %s inside %s", at, pair.wk, pair.warn.Text, pair.hk, pair.hard.Text, pair.wk, pair.hk)
			}
		}
		f.Checks = append(f.Checks, c)
	}
	return f, problems
}

func hasUnknownKey(m map[string]any) bool {
	for k := range m {
		if !slices.Contains(checkKeys, k) {
			return true
		}
	}
	return false
}

func (l *Limit) value() float64 {
	if l.IsSpan {
		return float64(l.Span)
	}
	return l.Number
}

func params(v any) map[string]string {
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		out[k] = scalarText(x)
	}
	return out
}

func scalarText(v any) string {
	switch v := v.(type) {
	case json.Number:
		return v.String()
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// parseLimit reads a threshold: a number, or a string that is a timespan
// with a unit (4h, 30m, 1.5d) or in clock form (1.02:00:00).
func parseLimit(v any) (*Limit, error) {
	switch v := v.(type) {
	case json.Number:
		n, err := v.Float64()
		if err != nil {
			return nil, fmt.Errorf("%s is not a number", v)
		}
		return &Limit{Text: v.String(), Number: n}, nil
	case string:
		d, ok := parseSpan(v)
		if !ok {
			return nil, fmt.Errorf("%q is not a timespan", v)
		}
		return &Limit{Text: v, Span: d, IsSpan: true}, nil
	}
	return nil, fmt.Errorf("got %v", v)
}

// parseSpan reads a KQL timespan that says its unit or is in clock form; a
// bare number in a string ("4") is not one, since KQL would read it as days.
func parseSpan(s string) (time.Duration, bool) {
	t := strings.TrimSpace(s)
	if t == "" || !strings.ContainsAny(t, ":dhmsµnt") {
		return 0, false
	}
	d, err := parser.ParseTimespan(t)
	return d, err == nil
}

func parseExpected(v any) *Expected {
	e := &Expected{Text: scalarText(v)}
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Float64(); err == nil {
			e.Number = &n
		}
	case string:
		e.String = &v
		if d, ok := parseSpan(v); ok {
			e.Span = &d
		}
	case bool:
		e.Bool = &v
	}
	return e
}
