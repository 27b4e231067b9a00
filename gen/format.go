package gen

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Format is a file format WriteFormat writes.
type Format string

// The formats of a Log Analytics export.
const (
	// NDJSON is one JSON object per line, as `az monitor log-analytics
	// query` piped through jq -c, or the Logs page's JSON export, writes it.
	NDJSON Format = "ndjson"
	// JSON is one JSON array of the same objects, one object a line.
	JSON Format = "json"
	// CSV is the Logs page's "Export to CSV (all columns)": a header row of
	// column names where datetime columns carry the " [UTC]" suffix, RFC 4180
	// quoting, CRLF line ends, datetimes in ISO 8601 UTC with seven
	// fractional digits, dynamic values as JSON text and nulls as empty
	// fields.
	CSV Format = "csv"
)

// Formats lists the formats WriteFormat accepts.
var Formats = []Format{NDJSON, JSON, CSV}

// encoder turns snapshots into the bytes of one format. header comes first,
// separator before every row, trailer last.
type encoder interface {
	header() []byte
	separator() []byte
	row(*Snapshot) []byte
	trailer() []byte
}

func newEncoder(f Format) (encoder, error) {
	switch f {
	case NDJSON:
		return ndjsonEncoder{}, nil
	case JSON:
		return &jsonArrayEncoder{}, nil
	case CSV:
		return &csvEncoder{}, nil
	}
	return nil, fmt.Errorf("gen: unknown format %q (want ndjson, json or csv)", f)
}

type ndjsonEncoder struct{}

func (ndjsonEncoder) header() []byte         { return nil }
func (ndjsonEncoder) separator() []byte      { return nil }
func (ndjsonEncoder) row(s *Snapshot) []byte { return append(jsonText(s), '\n') }
func (ndjsonEncoder) trailer() []byte        { return nil }

// jsonArrayEncoder writes "[", the objects separated by ",\n" (one a line)
// and "]\n"; an empty history is "[]\n".
type jsonArrayEncoder struct{ rows int }

func (*jsonArrayEncoder) header() []byte         { return []byte("[") }
func (*jsonArrayEncoder) row(s *Snapshot) []byte { return jsonText(s) }

func (e *jsonArrayEncoder) separator() []byte {
	e.rows++
	if e.rows == 1 {
		return []byte("\n")
	}
	return []byte(",\n")
}

func (e *jsonArrayEncoder) trailer() []byte {
	if e.rows == 0 {
		return []byte("]\n")
	}
	return []byte("\n]\n")
}

type csvEncoder struct{ buf bytes.Buffer }

func (e *csvEncoder) header() []byte {
	t := reflect.TypeFor[Snapshot]()
	cells := make([]string, t.NumField())
	for i := range cells {
		f := t.Field(i)
		cells[i] = f.Tag.Get("json")
		if ft := f.Type; ft == reflect.TypeFor[Timestamp]() || ft == reflect.TypeFor[*Timestamp]() {
			cells[i] += " [UTC]"
		}
	}
	return e.record(cells)
}

func (*csvEncoder) separator() []byte { return nil }
func (*csvEncoder) trailer() []byte   { return nil }

// row writes the snapshot's fields in column order.
func (e *csvEncoder) row(s *Snapshot) []byte {
	v := reflect.ValueOf(s).Elem()
	cells := make([]string, v.NumField())
	for i := range cells {
		cells[i] = csvCell(v.Field(i).Interface())
	}
	return e.record(cells)
}

func csvCell(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case Timestamp:
		return time.Time(x).UTC().Format(TimeLayout)
	case *Timestamp:
		if x == nil {
			return ""
		}
		return time.Time(*x).UTC().Format(TimeLayout)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	panic(fmt.Sprintf("gen: no CSV form for %T", v)) // unreachable: Snapshot has only these field types
}

func (e *csvEncoder) record(cells []string) []byte {
	e.buf.Reset()
	w := csv.NewWriter(&e.buf)
	w.UseCRLF = true
	w.Write(cells) // writes to a bytes.Buffer cannot fail
	w.Flush()
	return bytes.Clone(e.buf.Bytes())
}

// ParseFormat returns the format named s ("ndjson", "json" or "csv",
// any case).
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(s))
	if _, err := newEncoder(f); err != nil {
		return "", err
	}
	return f, nil
}
