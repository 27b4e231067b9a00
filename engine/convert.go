package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// convert returns x as type to, following Kusto's conversion rules: a failed
// conversion is null, except that a string is never null (it is "").
// Every implicit and explicit conversion in the compiler goes through here.
func convert(x texpr, to Type) texpr {
	if x.t == to {
		return x
	}
	if x.t == Null {
		if to == String {
			return texpr{sql: "''", t: String}
		}
		return texpr{sql: "CAST(NULL AS " + to.SQLType() + ")", t: to}
	}
	out := texpr{t: to}
	s := x.sql
	switch to {
	case String:
		out.sql = "coalesce(" + toStringSQL(x) + ", '')"
	case Long, Int:
		out.sql = toLongSQL(x)
		if to == Int && out.sql != "NULL" {
			out.sql = "TRY_CAST(" + out.sql + " AS INTEGER)"
		}
	case Real:
		switch x.t {
		case Int, Long:
			out.sql = "CAST(" + s + " AS DOUBLE)"
		case Bool:
			out.sql = "CAST(CAST(" + s + " AS INTEGER) AS DOUBLE)"
		case String:
			out.sql = "TRY_CAST(trim(" + s + ") AS DOUBLE)"
		case Dynamic:
			out.sql = "(CASE WHEN json_type(" + s + ") IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(" + s + " AS DOUBLE) WHEN json_type(" + s + ") = 'VARCHAR' THEN TRY_CAST(trim(" + s + "->>'$') AS DOUBLE) END)"
		default:
			out.sql = "CAST(NULL AS DOUBLE)"
		}
	case Bool:
		switch x.t {
		case Int, Long, Real:
			out.sql = "(" + s + " <> 0)"
		case String:
			out.sql = stringToBoolSQL(s)
		case Dynamic:
			out.sql = "(CASE json_type(" + s + ") WHEN 'BOOLEAN' THEN CAST(" + s + " AS BOOLEAN) WHEN 'BIGINT' THEN CAST(" + s + " AS DOUBLE) <> 0 WHEN 'UBIGINT' THEN CAST(" + s + " AS DOUBLE) <> 0 WHEN 'DOUBLE' THEN CAST(" + s + " AS DOUBLE) <> 0 WHEN 'VARCHAR' THEN " + stringToBoolSQL(s+"->>'$'") + " END)"
		default:
			out.sql = "CAST(NULL AS BOOLEAN)"
		}
	case DateTime:
		switch x.t {
		case String:
			out.sql = stringToDateTimeSQL(s)
		case Dynamic:
			out.sql = "(CASE WHEN json_type(" + s + ") = 'VARCHAR' THEN " + stringToDateTimeSQL(s+"->>'$'") + " END)"
		default:
			out.sql = "CAST(NULL AS TIMESTAMP)"
		}
	case Dynamic:
		switch x.t {
		case DateTime, Timespan:
			out.sql = "to_json(" + toStringSQL(x) + ")"
		default:
			out.sql = "to_json(" + s + ")"
		}
	default:
		out.sql = "CAST(NULL AS " + to.SQLType() + ")"
	}
	return out
}

// toStringSQL renders x as Kusto's tostring() does; null stays null here
// (convert wraps it in coalesce).
func toStringSQL(x texpr) string {
	s := x.sql
	switch x.t {
	case String:
		return s
	case Int, Long:
		return "CAST(" + s + " AS VARCHAR)"
	case Bool:
		return "CAST(" + s + " AS VARCHAR)"
	case Real:
		// .NET prints whole reals without a fraction: tostring(1.0) is "1".
		return "(CASE WHEN " + s + " = trunc(" + s + ") AND abs(" + s + ") < 1e15 THEN CAST(CAST(" + s + " AS BIGINT) AS VARCHAR) ELSE CAST(" + s + " AS VARCHAR) END)"
	case DateTime:
		return dateTimeStringSQL(s)
	case Timespan:
		return timespanStringSQL(s)
	case Dynamic:
		return "(CASE json_type(" + s + ") WHEN 'VARCHAR' THEN " + s + "->>'$' WHEN 'NULL' THEN NULL ELSE CAST(" + s + " AS VARCHAR) END)"
	}
	return "NULL"
}

// dateTimeStringSQL formats a datetime like Kusto: 2024-01-31T13:45:00Z, or
// with seven fractional digits when there is a fraction.
func dateTimeStringSQL(s string) string {
	return "(CASE WHEN epoch_us(" + s + ") % 1000000 = 0 THEN strftime(" + s + ", '%Y-%m-%dT%H:%M:%SZ') ELSE strftime(" + s + ", '%Y-%m-%dT%H:%M:%S.%f') || '0Z' END)"
}

// timespanStringSQL formats microseconds like Kusto: [-][d.]hh:mm:ss[.fffffff].
func timespanStringSQL(s string) string {
	a := "abs(" + s + ")"
	pad := func(v string) string { return "lpad(CAST(" + v + " AS VARCHAR), 2, '0')" }
	return "(CASE WHEN " + s + " < 0 THEN '-' ELSE '' END" +
		" || CASE WHEN " + a + " >= 86400000000 THEN CAST(" + a + " // 86400000000 AS VARCHAR) || '.' ELSE '' END" +
		" || " + pad("("+a+" // 3600000000) % 24") + " || ':' || " + pad("("+a+" // 60000000) % 60") + " || ':' || " + pad("("+a+" // 1000000) % 60") +
		" || CASE WHEN " + a + " % 1000000 <> 0 THEN '.' || lpad(CAST(" + a + " % 1000000 AS VARCHAR), 6, '0') || '0' ELSE '' END)"
}

// toLongSQL converts to a 64-bit integer, truncating reals toward zero
// (toint(2.7) is 2) and parsing only whole numbers from strings.
func toLongSQL(x texpr) string {
	s := x.sql
	switch x.t {
	case Int, Long:
		return "CAST(" + s + " AS BIGINT)"
	case Real:
		return "TRY_CAST(trunc(" + s + ") AS BIGINT)"
	case Bool:
		return "CAST(" + s + " AS BIGINT)"
	case String:
		return stringToLongSQL(s)
	case DateTime: // ticks since 0001-01-01
		return "(epoch_us(" + s + ") * 10 + 621355968000000000)"
	case Timespan: // ticks
		return "(" + s + " * 10)"
	case Dynamic:
		return "(CASE json_type(" + s + ") WHEN 'BIGINT' THEN CAST(" + s + " AS BIGINT) WHEN 'UBIGINT' THEN TRY_CAST(" + s + " AS BIGINT)" +
			" WHEN 'DOUBLE' THEN TRY_CAST(trunc(CAST(" + s + " AS DOUBLE)) AS BIGINT) WHEN 'BOOLEAN' THEN CAST(CAST(" + s + " AS BOOLEAN) AS BIGINT)" +
			" WHEN 'VARCHAR' THEN " + stringToLongSQL(s+"->>'$'") + " END)"
	}
	return "NULL"
}

func stringToLongSQL(s string) string {
	return "(CASE WHEN regexp_full_match(trim(" + s + "), '[+-]?[0-9]+') THEN TRY_CAST(trim(" + s + ") AS BIGINT) END)"
}

func stringToBoolSQL(s string) string {
	return "(CASE lower(trim(" + s + ")) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE WHEN '1' THEN TRUE WHEN '0' THEN FALSE END)"
}

// stringToDateTimeSQL parses ISO 8601 (any offset, converted to UTC; none
// means UTC) and the RFC 822/1123 forms Kusto accepts.
func stringToDateTimeSQL(s string) string {
	return "coalesce(TRY_CAST(trim(" + s + ") AS TIMESTAMPTZ) AT TIME ZONE 'UTC'" +
		", try_strptime(trim(" + s + "), '%a, %d %b %Y %H:%M:%S GMT')" +
		", try_strptime(trim(" + s + "), '%d %b %Y %H:%M:%S GMT'))"
}

// jsonNumber is a number decoded from a dynamic literal, kept as its text.
type jsonNumber = json.Number

// decodeJSONArray decodes the flattened scalar elements of a JSON array
// (nested arrays flattened, as `in` does); a scalar is a one-element list.
func decodeJSONArray(text string) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("bad dynamic value: %v", err)
	}
	var out []any
	var walk func(any)
	walk = func(v any) {
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				walk(e)
			}
			return
		}
		out = append(out, v)
	}
	walk(v)
	return out, nil
}

// sqlList joins SQL fragments with commas.
func sqlList(parts []string) string { return strings.Join(parts, ", ") }
