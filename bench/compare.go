package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socq/socq/engine"
)

// A result is a query's rows in canonical text form, one string a row, so
// two contenders' results compare as sorted lists whatever the driver
// types: datetimes in UTC with nanoseconds, numbers with 9 significant
// digits (the two sides may divide in another order), dynamic values as
// JSON with sorted keys, a null string as "" (Kusto strings are never null).
type result []string

// canonRow appends the canonical form of one row, typed by the socq plan's
// columns (both contenders' rows are read with the same types).
func canonRow(cols []engine.Column, row []any) (string, error) {
	var b strings.Builder
	for i, v := range row {
		if i > 0 {
			b.WriteString(" | ")
		}
		var t engine.Type
		if i < len(cols) {
			t = cols[i].Type
		}
		s, err := canonValue(v, t)
		if err != nil {
			return "", fmt.Errorf("column %d: %w", i+1, err)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func canonValue(v any, t engine.Type) (string, error) {
	if v == nil {
		if t == engine.String {
			return `""`, nil
		}
		return "null", nil
	}
	if t == engine.Dynamic {
		var text []byte
		switch x := v.(type) {
		case json.RawMessage:
			text = x
		case string:
			// JSON text, or a JSON string the driver already decoded
			// (duckdb-go decodes JSON columns).
			text = []byte(x)
			if !json.Valid(text) {
				text, _ = json.Marshal(x)
			}
		case []byte:
			text = x
		default:
			m, err := json.Marshal(x)
			if err != nil {
				return "", err
			}
			text = m
		}
		return canonJSON(text)
	}
	switch x := v.(type) {
	case string:
		return strconv.Quote(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	case time.Duration:
		return canonFloat(x.Hours()), nil
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return fmt.Sprint(x), nil
	case *big.Int:
		return x.String(), nil
	case float32:
		return canonFloat(float64(x)), nil
	case float64:
		return canonFloat(x), nil
	}
	return "", fmt.Errorf("no canonical form for %T", v)
}

func canonFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'g', 9, 64)
}

// canonJSON re-encodes JSON text with sorted keys and numbers as written.
func canonJSON(text []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("not JSON: %q", text)
	}
	out, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// equalResults reports how two results differ, or "" when they hold the
// same rows (in any order).
func equalResults(socq, sql result) string {
	a, b := slices.Clone(socq), slices.Clone(sql)
	slices.Sort(a)
	slices.Sort(b)
	if len(a) != len(b) {
		return fmt.Sprintf("socq returned %d rows, SQL %d", len(a), len(b)) + firstDifference(a, b)
	}
	for i := range a {
		if a[i] != b[i] {
			return fmt.Sprintf("row %d of %d (sorted) differs", i+1, len(a)) + firstDifference(a, b)
		}
	}
	return ""
}

func firstDifference(a, b []string) string {
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf(":\n  socq: %s\n  SQL:  %s", x, y)
		}
	}
	return ""
}
