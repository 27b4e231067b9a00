// Package output prints query results: table, CSV, TSV, JSON and NDJSON,
// with the value formatting of DESIGN.md (RFC 3339 UTC datetimes, Kusto
// timespans, dynamic values as compact JSON, a dynamic scalar as its plain
// value, null as empty). The CLI and the golden tests share it.
package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/socq/socq/engine"
)

// Formats are the names of the output formats.
var Formats = []string{"table", "csv", "tsv", "json", "ndjson", "markdown"}

// Writer prints a result as its rows stream in; Close finishes it.
type Writer interface {
	Row(vals []any) error
	Close() error
}

// ErrUnknownFormat is returned by New for a format not in Formats.
var ErrUnknownFormat = errors.New("unknown output format")

// New returns a Writer of format for a result with the given columns.
func New(w io.Writer, format string, cols []engine.Column) (Writer, error) {
	switch format {
	case "table":
		return &tableWriter{w: w, cols: cols}, nil
	case "markdown":
		return &tableWriter{w: w, cols: cols, markdown: true}, nil
	case "csv", "tsv":
		cw := csv.NewWriter(w)
		if format == "tsv" {
			cw.Comma = '\t'
		}
		header := make([]string, len(cols))
		for i, c := range cols {
			header[i] = c.Name
		}
		if err := cw.Write(header); err != nil {
			return nil, err
		}
		return &csvWriter{w: cw, rec: make([]string, len(cols))}, nil
	case "json", "ndjson":
		return &jsonWriter{w: w, cols: cols, array: format == "json"}, nil
	}
	return nil, fmt.Errorf("%w %q (use one of: %s)", ErrUnknownFormat, format, strings.Join(Formats, ", "))
}

type csvWriter struct {
	w   *csv.Writer
	rec []string
}

func (c *csvWriter) Row(vals []any) error {
	for i, v := range vals {
		c.rec[i] = FormatCell(v)
	}
	return c.w.Write(c.rec)
}

func (c *csvWriter) Close() error {
	c.w.Flush()
	return c.w.Error()
}

// tableWriter buffers the rows to size the columns. On a terminal long
// cells are cut so a row of incident history stays readable (csv or json
// give whole values); markdown keeps them whole.
type tableWriter struct {
	w        io.Writer
	cols     []engine.Column
	rows     []table.Row
	markdown bool
}

const maxTableCell = 60

func (t *tableWriter) Row(vals []any) error {
	r := make(table.Row, len(vals))
	for i, v := range vals {
		s := strings.ReplaceAll(FormatCell(v), "\n", " ")
		if n := []rune(s); len(n) > maxTableCell && !t.markdown {
			s = string(n[:maxTableCell-1]) + "…"
		}
		r[i] = s
	}
	t.rows = append(t.rows, r)
	return nil
}

func (t *tableWriter) Close() error {
	tw := table.NewWriter()
	tw.SetOutputMirror(t.w)
	header := make(table.Row, len(t.cols))
	for i, c := range t.cols {
		header[i] = c.Name
	}
	tw.AppendHeader(header)
	tw.AppendRows(t.rows)
	if t.markdown {
		tw.RenderMarkdown()
		return nil
	}
	style := table.StyleLight
	style.Format.Header = 0 // keep KQL names exactly as they are (no upper-casing)
	tw.SetStyle(style)
	tw.Render()
	_, err := fmt.Fprintf(t.w, "(%d %s)\n", len(t.rows), plural(len(t.rows), "row", "rows"))
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// jsonWriter writes objects with keys in column order; dynamic values are
// embedded as JSON, not as strings.
type jsonWriter struct {
	w     io.Writer
	cols  []engine.Column
	array bool
	n     int
	buf   bytes.Buffer
}

func (j *jsonWriter) Row(vals []any) error {
	j.buf.Reset()
	switch {
	case j.array && j.n == 0:
		j.buf.WriteString("[\n")
	case j.array:
		j.buf.WriteString(",\n")
	}
	j.buf.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			j.buf.WriteByte(',')
		}
		writeJSONString(&j.buf, j.cols[i].Name)
		j.buf.WriteByte(':')
		writeJSONValue(&j.buf, v)
	}
	j.buf.WriteByte('}')
	if !j.array {
		j.buf.WriteByte('\n')
	}
	j.n++
	_, err := j.w.Write(j.buf.Bytes())
	return err
}

func (j *jsonWriter) Close() error {
	if !j.array {
		return nil
	}
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	b.Truncate(b.Len() - 1)
}

func writeJSONValue(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case json.RawMessage:
		b.Write(v)
	case string:
		writeJSONString(b, v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			writeJSONString(b, FormatCell(v)) // JSON has no NaN or Infinity
			return
		}
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case int64, bool:
		fmt.Fprint(b, v)
	default:
		writeJSONString(b, FormatCell(v))
	}
}

// FormatCell renders a value as text: datetimes in RFC 3339 UTC as Kusto
// prints them, timespans as [-][d.]hh:mm:ss[.fffffff], dynamic arrays and
// bags as compact JSON, a dynamic scalar as its plain value, null as "".
func FormatCell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return formatReal(v)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return formatDateTime(v)
	case time.Duration:
		return formatTimespan(v)
	case json.RawMessage:
		var s string
		if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
			return s
		}
		return string(v)
	}
	return fmt.Sprint(v)
}

func formatReal(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.Abs(f) < 1e15:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'E', -1, 64)
}

func formatDateTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.0000000Z")
}

func formatTimespan(d time.Duration) string {
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	days := d / (24 * time.Hour)
	if days > 0 {
		fmt.Fprintf(&b, "%d.", days)
	}
	d -= days * 24 * time.Hour
	fmt.Fprintf(&b, "%02d:%02d:%02d", d/time.Hour, d/time.Minute%60, d/time.Second%60)
	if frac := d % time.Second; frac != 0 {
		fmt.Fprintf(&b, ".%07d", frac/100)
	}
	return b.String()
}
