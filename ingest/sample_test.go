package ingest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/gen"
)

// This file takes SecurityIncident history for tests and benchmarks from
// package gen and writes it in every format Log Analytics exports.

// row is one snapshot row: the values of the table's columns by name, with
// dynamic values as JSON (json.RawMessage), datetimes as time.Time and
// numbers as json.Number.
type row map[string]any

// genNDJSON returns gen's history of incidents for a seed: NDJSON with every
// column, dynamic values as JSON text in strings.
func genNDJSON(seed int64, incidents int) []byte {
	var b bytes.Buffer
	if err := gen.Write(&b, gen.Options{Incidents: incidents, Seed: seed}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// sampleHistory returns the rows of gen's history of incidents for a seed,
// several per incident, in gen's order (by TimeGenerated).
func sampleHistory(seed int64, incidents int) []row {
	var rows []row
	lines := bytes.Split(bytes.TrimSuffix(genNDJSON(seed, incidents), []byte("\n")), []byte("\n"))
	for i, line := range lines {
		r, err := decodeRow(line)
		if err != nil {
			panic(fmt.Sprintf("gen line %d: %v", i+1, err))
		}
		rows = append(rows, r)
	}
	return rows
}

// decodeRow reads one line of gen's NDJSON back into a row, undoing what
// exportValue does, so that toNDJSON gives back gen's bytes.
func decodeRow(line []byte) (row, error) {
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var r row
	if err := d.Decode(&r); err != nil {
		return nil, err
	}
	for _, c := range engine.SecurityIncident().Columns {
		s, ok := r[c.Name].(string)
		if !ok {
			continue
		}
		switch c.Type {
		case engine.DateTime:
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.Name, err)
			}
			r[c.Name] = t
		case engine.Dynamic:
			if !json.Valid([]byte(s)) {
				return nil, fmt.Errorf("%s: not JSON text: %q", c.Name, s)
			}
			r[c.Name] = json.RawMessage(s)
		}
	}
	return r, nil
}

// marshal encodes v as JSON without escaping "<", ">" and "&", as gen and
// Log Analytics write it.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// exportValue is how Log Analytics exports a value in JSON: datetimes as
// ISO 8601 with 7 fraction digits, dynamic values as JSON text in strings
// (or, with nativeDynamic, as JSON values).
func exportValue(c engine.Column, v any, nativeDynamic bool) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.0000000Z")
	}
	if c.Type == engine.Dynamic && !nativeDynamic {
		return string(marshal(v))
	}
	return v
}

// orderedObject writes the values of r as a JSON object in column order.
func orderedObject(w *bytes.Buffer, r row, nativeDynamic bool) {
	w.WriteByte('{')
	first := true
	for _, c := range engine.SecurityIncident().Columns {
		v, ok := r[c.Name]
		if !ok {
			continue
		}
		if !first {
			w.WriteByte(',')
		}
		first = false
		w.Write(marshal(c.Name))
		w.WriteByte(':')
		w.Write(marshal(exportValue(c, v, nativeDynamic)))
	}
	w.WriteByte('}')
}

func writeNDJSON(w io.Writer, rows []row, nativeDynamic bool) {
	var b bytes.Buffer
	for _, r := range rows {
		b.Reset()
		orderedObject(&b, r, nativeDynamic)
		b.WriteByte('\n')
		w.Write(b.Bytes())
	}
}

func toNDJSON(rows []row) []byte {
	var b bytes.Buffer
	writeNDJSON(&b, rows, false)
	return b.Bytes()
}

// toJSONArray writes the rows as a pretty-printed JSON array with dynamic
// values as JSON values.
func toJSONArray(rows []row) []byte {
	var b, out bytes.Buffer
	b.WriteString("[\n")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(",\n")
		}
		orderedObject(&b, r, true)
	}
	b.WriteString("\n]\n")
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		panic(err)
	}
	return out.Bytes()
}

// toAPIResponse writes the rows as a Log Analytics query API response.
func toAPIResponse(rows []row) []byte {
	kqlType := map[engine.Type]string{engine.String: "string", engine.DateTime: "datetime",
		engine.Int: "int", engine.Real: "real", engine.Dynamic: "dynamic"}
	type column struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	cols := engine.SecurityIncident().Columns
	var columns []column
	for _, c := range cols {
		columns = append(columns, column{c.Name, kqlType[c.Type]})
	}
	var values [][]any
	for _, r := range rows {
		vals := make([]any, len(cols))
		for i, c := range cols {
			vals[i] = exportValue(c, r[c.Name], false)
		}
		values = append(values, vals)
	}
	b, err := json.Marshal(map[string]any{"tables": []any{map[string]any{
		"name": "PrimaryResult", "columns": columns, "rows": values}}})
	if err != nil {
		panic(err)
	}
	return b
}

// toCSV writes the rows as the Logs page's CSV export: datetime headers
// carry " [UTC]", dynamic values are JSON text, nulls are empty.
func toCSV(rows []row) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	cols := engine.SecurityIncident().Columns
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.Name
		if c.Type == engine.DateTime {
			header[i] += " [UTC]"
		}
	}
	w.Write(header)
	for _, r := range rows {
		rec := make([]string, len(cols))
		for i, c := range cols {
			switch v := exportValue(c, r[c.Name], false).(type) {
			case nil:
			case string:
				rec[i] = v
			default:
				rec[i] = fmt.Sprint(v)
			}
		}
		w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}
