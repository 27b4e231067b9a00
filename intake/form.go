package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/socq/socq/incident"
)

// Form fields: what a column of a form export can map to.
const (
	FieldTitle       = "title"
	FieldDescription = "description"
	FieldSeverity    = "severity"
	FieldOwner       = "owner"
	FieldTags        = "tags"
	FieldID          = "id"
)

// FormFields are the fields in the order --map lists them.
var FormFields = []string{FieldTitle, FieldDescription, FieldSeverity, FieldOwner, FieldTags, FieldID}

// defaultColumns are the column names each field is found under when
// --map does not name one (compared ignoring case): the names form tools
// use (Microsoft Forms' "ID", SharePoint's "Title", …).
var defaultColumns = map[string][]string{
	FieldTitle:       {"title", "subject", "summary", "incident title"},
	FieldDescription: {"description", "details", "body", "message", "incident description"},
	FieldSeverity:    {"severity"},
	FieldOwner:       {"owner", "assignee", "assigned to"},
	FieldTags:        {"tags", "labels"},
	FieldID:          {"id", "response id", "responseid", "submission id", "submissionid"},
}

// Mapping maps form fields (FormFields) to column names.
type Mapping map[string]string

// ParseMapping reads --map values: FIELD=COLUMN pairs separated by commas.
// A comma splits pairs only where a field name and = follow it, so a column
// name may contain commas ("description=Where, when and what,id=ID").
func ParseMapping(values []string) (Mapping, error) {
	m := Mapping{}
	for _, v := range values {
		for _, p := range splitPairs(v) {
			if strings.TrimSpace(p) == "" {
				continue
			}
			k, col, ok := strings.Cut(p, "=")
			field := strings.ToLower(strings.TrimSpace(k))
			col = strings.TrimSpace(col)
			if !ok || col == "" {
				return nil, fmt.Errorf("--map %q: want FIELD=COLUMN (fields: %s)", p, strings.Join(FormFields, ", "))
			}
			if !slices.Contains(FormFields, field) {
				return nil, fmt.Errorf("--map %q: unknown field %q (fields: %s)", p, strings.TrimSpace(k), strings.Join(FormFields, ", "))
			}
			if prev, dup := m[field]; dup && prev != col {
				return nil, fmt.Errorf("--map: %s is mapped twice (%q and %q)", field, prev, col)
			}
			m[field] = col
		}
	}
	return m, nil
}

// splitPairs splits a --map value at the commas that start a new
// FIELD=COLUMN pair: those followed by a word and "=" (a known field or
// not, so a misspelt one is reported rather than read as part of a column).
func splitPairs(v string) []string {
	var pairs []string
	start := 0
	for i := 0; i < len(v); i++ {
		if v[i] != ',' {
			continue
		}
		rest := strings.TrimLeft(v[i+1:], " ")
		if k, _, ok := strings.Cut(rest, "="); ok && k != "" && !strings.ContainsAny(k, ", ") || rest == "" {
			pairs = append(pairs, v[start:i])
			start = i + 1
		}
	}
	return append(pairs, v[start:])
}

// Submission is one row (CSV) or object (JSON) of a form export, mapped to
// the fields of an incident. Values are as written: the Recorder validates
// them.
type Submission struct {
	Line        int // the line the row or object starts on
	Title       string
	Description string
	Severity    string
	Owner       string
	Tags        []string
	ID          string // the form response id; "" when no id column (then Hash names it)
	// Fields are the row's other non-empty columns, kept in
	// AdditionalData.socqSource.fields.
	Fields map[string]string
}

// RowError is a row that cannot be read.
type RowError struct {
	Line   int
	Reason string
}

// Form is a form export read and mapped.
type Form struct {
	Format      string            // "CSV" or "JSON"
	Columns     []string          // the columns, in order
	Mapped      map[string]string // field → the column it was read from
	Submissions []Submission
	Rejects     []RowError
}

// MappingError is a --map naming a column the file lacks, or a file with no
// title column: a usage problem, not a bad row.
type MappingError struct{ Msg string }

func (e *MappingError) Error() string { return e.Msg }

// record is a row before mapping: column → value (a string for CSV; any
// JSON value for JSON).
type record struct {
	line   int
	values map[string]any
}

// maxForm bounds the size of a form export.
const maxForm = 256 << 20

// ReadForm reads a form export: CSV (with a header row; comma, semicolon
// or tab separated; quoted newlines; a UTF-8 or UTF-16 byte order mark, or
// Windows-1252 text as Excel writes it) or JSON (an array of objects, one
// object a line, or an object whose "value" or "responses" array holds
// them). Rows that cannot be read are in Rejects; an error means the file
// as a whole cannot be read as a form.
func ReadForm(r io.Reader, m Mapping) (*Form, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxForm+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxForm {
		return nil, fmt.Errorf("a form export longer than %d MiB", maxForm>>20)
	}
	data := decodeText(raw)
	f := &Form{}
	var recs []record
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '[' || trimmed[0] == '{') {
		f.Format = "JSON"
		recs, f.Columns, f.Rejects, err = readJSONRecords(data)
	} else {
		f.Format = "CSV"
		recs, f.Columns, f.Rejects, err = readCSVRecords(data)
	}
	if err != nil {
		return nil, err
	}
	if err := f.resolve(m); err != nil {
		return nil, err
	}
	for _, rec := range recs {
		s, err := f.submission(rec)
		if err != nil {
			f.Rejects = append(f.Rejects, RowError{Line: rec.line, Reason: err.Error()})
			continue
		}
		if s != nil {
			f.Submissions = append(f.Submissions, *s)
		}
	}
	sort.SliceStable(f.Rejects, func(i, j int) bool { return f.Rejects[i].Line < f.Rejects[j].Line })
	return f, nil
}

// decodeText turns the bytes of a file into UTF-8: a byte order mark
// (UTF-8, UTF-16 LE or BE) is honoured and dropped; text that is not UTF-8
// is read as Windows-1252.
func decodeText(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte{0xFF, 0xFE}) || bytes.HasPrefix(raw, []byte{0xFE, 0xFF}) || bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}) {
		out, _, err := transform.Bytes(unicode.BOMOverride(unicode.UTF8.NewDecoder()), raw)
		if err == nil {
			return bytes.ToValidUTF8(out, []byte("\uFFFD"))
		}
	}
	if utf8.Valid(raw) {
		return raw
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(raw)
	if err != nil {
		return bytes.ToValidUTF8(raw, []byte("\uFFFD"))
	}
	return out
}

// readCSVRecords reads a CSV export; each record's line is the line its
// first field starts on.
func readCSVRecords(data []byte) ([]record, []string, []RowError, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sniffDelimiter(data)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, nil, errors.New("the file is empty: a CSV form export needs a header row")
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("header row: %w", csvReason(err))
	}
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		cols[i] = strings.TrimSpace(h)
		key := strings.ToLower(cols[i])
		if cols[i] != "" && seen[key] {
			return nil, nil, nil, fmt.Errorf("header row: the column %q appears twice", cols[i])
		}
		seen[key] = true
	}
	var recs []record
	var rejects []RowError
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			line := 0
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			rejects = append(rejects, RowError{Line: line, Reason: csvReason(err).Error()})
			continue
		}
		line, _ := cr.FieldPos(0)
		if isBlankRow(row) {
			continue
		}
		if len(row) != len(cols) {
			rejects = append(rejects, RowError{Line: line, Reason: fmt.Sprintf("has %d fields, the header has %d", len(row), len(cols))})
			continue
		}
		values := make(map[string]any, len(cols))
		for i, c := range cols {
			if c != "" {
				values[c] = row[i]
			}
		}
		recs = append(recs, record{line: line, values: values})
	}
	return recs, cols, rejects, nil
}

// csvReason is a CSV error without the position, which the caller reports.
func csvReason(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("CSV: %w", pe.Err)
	}
	return err
}

func isBlankRow(row []string) bool {
	for _, v := range row {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// sniffDelimiter picks the separator of the header line: the most common
// of comma, semicolon (Excel in many locales) and tab outside quotes.
func sniffDelimiter(data []byte) rune {
	counts := map[rune]int{}
	quoted := false
	for _, c := range string(data) {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if !quoted && (c == '\n' || c == '\r') {
			break
		}
		if !quoted && (c == ',' || c == ';' || c == '\t') {
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

// readJSONRecords reads a JSON export; each record's line is the line its
// object starts on. Damage in the JSON ends the reading there: the objects
// before it are read, and the damage is a rejected row.
func readJSONRecords(data []byte) ([]record, []string, []RowError, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var recs []record
	var rejects []RowError
	var cols []string
	seen := map[string]bool{}
	add := func(start int, raw json.RawMessage) {
		line := lineAt(data, start)
		keys, values, err := decodeObject(raw)
		if err != nil {
			rejects = append(rejects, RowError{Line: line, Reason: err.Error()})
			return
		}
		for _, k := range keys {
			if !seen[strings.ToLower(k)] {
				seen[strings.ToLower(k)] = true
				cols = append(cols, k)
			}
		}
		recs = append(recs, record{line: line, values: values})
	}
	syntax := func(err error) RowError {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return RowError{Line: lineAt(data, int(se.Offset)), Reason: "invalid JSON: " + se.Error()}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return RowError{Line: lineAt(data, len(data)), Reason: "invalid JSON: the file ends inside a value"}
		}
		return RowError{Line: lineAt(data, int(dec.InputOffset())), Reason: "invalid JSON: " + err.Error()}
	}
	// value reads the next value with the offset it starts at.
	value := func() (int, json.RawMessage, error) {
		start := skipJSONSpace(data, int(dec.InputOffset()))
		var raw json.RawMessage
		err := dec.Decode(&raw)
		return start, raw, err
	}
	// elements reads the elements of an array whose '[' was just read.
	elements := func() error {
		for dec.More() {
			start, raw, err := value()
			if err != nil {
				return err
			}
			add(start, raw)
		}
		_, err := dec.Token() // ']'
		return err
	}
	// fail turns damage into a rejected row when some rows were read, or
	// into an error for the file when nothing could be.
	fail := func(err error) ([]record, []string, []RowError, error) {
		re := syntax(err)
		if len(recs) == 0 && len(rejects) == 0 {
			return nil, nil, nil, fmt.Errorf("line %d: %s", re.Line, re.Reason)
		}
		return recs, cols, append(rejects, re), nil
	}
	trimmed := bytes.TrimSpace(data)
	var wrapper map[string]json.RawMessage
	switch {
	case json.Unmarshal(data, &wrapper) == nil && wrapperKey(wrapper) != "":
		// {"value": [...]}, as Graph and Power Automate return lists.
		key := wrapperKey(wrapper)
		if _, err := dec.Token(); err != nil { // '{'
			return fail(err)
		}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return fail(err)
			}
			if k, _ := t.(string); k == key {
				if _, err := dec.Token(); err != nil { // '['
					return fail(err)
				}
				if err := elements(); err != nil {
					return fail(err)
				}
				continue
			}
			if _, _, err := value(); err != nil {
				return fail(err)
			}
		}
	case len(trimmed) > 0 && trimmed[0] == '[':
		if _, err := dec.Token(); err != nil {
			return fail(err)
		}
		if err := elements(); err != nil {
			return fail(err)
		}
		if dec.More() {
			return recs, cols, append(rejects, RowError{Line: lineAt(data, skipJSONSpace(data, int(dec.InputOffset()))),
				Reason: "unexpected text after the JSON array"}), nil
		}
	default:
		// One object a line (NDJSON), or objects one after another.
		for {
			start, raw, err := value()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fail(err)
			}
			add(start, raw)
		}
	}
	return recs, cols, rejects, nil
}

// decodeObject reads a JSON object keeping the order of its keys (the
// order of the columns). Keys are trimmed; numbers keep their text.
func decodeObject(raw json.RawMessage) ([]string, map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		var v any
		if d, ok := t.(json.Delim); ok && d == '[' {
			v = []any{}
		} else {
			v = t
		}
		return nil, nil, fmt.Errorf("a form response must be a JSON object, not %s", jsonKind(v))
	}
	var keys []string
	values := map[string]any{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("invalid JSON: %w", err)
		}
		k := strings.TrimSpace(t.(string))
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("invalid JSON: %w", err)
		}
		if _, dup := values[k]; !dup {
			keys = append(keys, k)
		}
		values[k] = v
	}
	return keys, values, nil
}

// wrapperKey is the key of an object's array of responses, "" when the
// object is not such a wrapper.
func wrapperKey(m map[string]json.RawMessage) string {
	for _, k := range []string{"value", "responses"} {
		if v, ok := m[k]; ok && len(bytes.TrimSpace(v)) > 0 && bytes.TrimSpace(v)[0] == '[' {
			return k
		}
	}
	return ""
}

// skipJSONSpace moves past whitespace and the comma between values.
func skipJSONSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n' || data[i] == ',') {
		i++
	}
	return i
}

// lineAt is the 1-based line of byte offset i.
func lineAt(data []byte, i int) int {
	return 1 + bytes.Count(data[:min(max(i, 0), len(data))], []byte("\n"))
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	}
	return "an object"
}

// resolve finds the column of each field: the --map one (which must
// exist), else a default name. A title column is required.
func (f *Form) resolve(m Mapping) error {
	f.Mapped = map[string]string{}
	find := func(name string) (string, bool) {
		for _, c := range f.Columns {
			if c == name {
				return c, true
			}
		}
		for _, c := range f.Columns {
			if strings.EqualFold(c, strings.TrimSpace(name)) {
				return c, true
			}
		}
		return "", false
	}
	used := map[string]string{}
	for _, field := range FormFields {
		if want, ok := m[field]; ok {
			col, found := find(want)
			if !found {
				return &MappingError{Msg: fmt.Sprintf("--map %s=%s: the file has no column %q (its columns: %s)", field, want, want, quoteList(f.Columns))}
			}
			f.Mapped[field] = col
			used[col] = field
			continue
		}
	}
	for _, field := range FormFields {
		if _, ok := f.Mapped[field]; ok {
			continue
		}
		for _, name := range defaultColumns[field] {
			if col, found := find(name); found && used[col] == "" {
				f.Mapped[field] = col
				used[col] = field
				break
			}
		}
	}
	if _, ok := f.Mapped[FieldTitle]; !ok {
		return &MappingError{Msg: fmt.Sprintf("no title column (its columns: %s); name one with --map title=COLUMN", quoteList(f.Columns))}
	}
	return nil
}

func quoteList(cols []string) string {
	if len(cols) == 0 {
		return "none"
	}
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = fmt.Sprintf("%q", c)
	}
	return strings.Join(q, ", ")
}

// submission maps a record; nil for a record with no value at all.
func (f *Form) submission(rec record) (*Submission, error) {
	s := &Submission{Line: rec.line, Fields: map[string]string{}}
	mappedCols := map[string]bool{}
	empty := true
	for _, field := range FormFields {
		col, ok := f.Mapped[field]
		if !ok {
			continue
		}
		mappedCols[col] = true
		v, present := rec.values[col]
		if !present || v == nil {
			continue
		}
		if field == FieldTags {
			tags, err := tagValues(v)
			if err != nil {
				return nil, fmt.Errorf("%s (column %q): %w", field, col, err)
			}
			s.Tags = tags
			if len(tags) > 0 {
				empty = false
			}
			continue
		}
		text, err := scalarText(v)
		if err != nil {
			return nil, fmt.Errorf("%s (column %q): %w", field, col, err)
		}
		if strings.TrimSpace(text) != "" {
			empty = false
		}
		switch field {
		case FieldTitle:
			s.Title = text
		case FieldDescription:
			s.Description = text
		case FieldSeverity:
			s.Severity = text
		case FieldOwner:
			s.Owner = strings.TrimSpace(text)
		case FieldID:
			s.ID = strings.TrimSpace(text)
		}
	}
	var other []string
	for _, c := range f.Columns {
		v, ok := rec.values[c]
		if mappedCols[c] || !ok || v == nil {
			continue
		}
		text, err := scalarText(v)
		if err != nil {
			b, _ := json.Marshal(v)
			text = string(b)
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		empty = false
		s.Fields[c] = text
		other = append(other, c)
	}
	if empty {
		return nil, nil
	}
	if _, ok := f.Mapped[FieldDescription]; !ok && len(other) > 0 {
		// No description column: the other answers are the description.
		var b strings.Builder
		for _, c := range other {
			fmt.Fprintf(&b, "%s: %s\n", c, s.Fields[c])
		}
		s.Description = fitDescription(strings.TrimRight(b.String(), "\n"))
	}
	return s, nil
}

// fitDescription cuts text built by intake to the description limit, with
// the same marker as a long mail.
func fitDescription(text string) string {
	if utf8.RuneCountInString(text) <= incident.MaxDescription {
		return text
	}
	return Describe(text, nil)
}

func scalarText(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		if v {
			return "true", nil
		}
		return "false", nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("is %s, want text", jsonKind(v))
}

// tagValues reads tags: text separated by commas or semicolons, or a JSON
// array of texts.
func tagValues(v any) ([]string, error) {
	var parts []string
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			t, err := scalarText(e)
			if err != nil {
				return nil, fmt.Errorf("a tag %s", strings.TrimPrefix(err.Error(), "is "))
			}
			parts = append(parts, t)
		}
	default:
		t, err := scalarText(v)
		if err != nil {
			return nil, err
		}
		parts = strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == ';' || r == '\n' })
	}
	var tags []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(tags, p) {
			tags = append(tags, p)
		}
	}
	return tags, nil
}

// NewIncident is the incident a submission becomes. form names the form
// (--form), so the ids of two forms do not collide; file is where it was
// read.
func (s *Submission) NewIncident(form, file string) incident.NewIncident {
	source := map[string]any{"kind": "form", "file": file, "line": s.Line}
	if form != "" {
		source["form"] = form
	}
	if s.ID != "" {
		source["responseId"] = s.ID
	} else {
		source["sha256"] = s.Hash()
	}
	if len(s.Fields) > 0 {
		source["fields"] = s.Fields
	}
	in := incident.NewIncident{
		Title:       s.Title,
		Description: s.Description,
		Severity:    s.Severity,
		Owner:       s.Owner,
		Tags:        append([]string{TagFromForm}, s.Tags...),
		Source:      source,
	}
	in.ExternalID = FormExternalID(form, s.ID)
	if s.ID == "" {
		in.ExternalID = FormExternalID(form, "sha256:"+s.Hash())
	}
	return in
}

// Hash names a response without an id by its values (not its line): the
// first 128 bits of their SHA-256, in hex. The same row exported again is
// skipped; a row changed since is a new response.
func (s *Submission) Hash() string {
	h := sha256.New()
	put := func(k, v string) { fmt.Fprintf(h, "%d:%s=%d:%s;", len(k), k, len(v), v) }
	put(FieldTitle, s.Title)
	put(FieldDescription, s.Description)
	put(FieldSeverity, s.Severity)
	put(FieldOwner, s.Owner)
	for _, t := range s.Tags {
		put(FieldTags, t)
	}
	keys := make([]string, 0, len(s.Fields))
	for k := range s.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		put("field "+k, s.Fields[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// FormExternalID is the id a form response is recorded under.
func FormExternalID(form, id string) string {
	if form != "" {
		return "form:" + form + ":" + id
	}
	return "form:" + id
}
