package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
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
		case Timespan, DateTime: // ticks, as tolong() gives them
			out.sql = "CAST(" + toLongSQL(x) + " AS DOUBLE)"
		case Bool:
			out.sql = "CAST(CAST(" + s + " AS INTEGER) AS DOUBLE)"
		case String:
			out.sql = "TRY_CAST(trim(" + s + ") AS DOUBLE)"
		case Dynamic:
			out.sql = "(CASE WHEN json_type(" + s + ") IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(" + s + " AS DOUBLE) WHEN json_type(" + s + ") = 'VARCHAR' THEN TRY_CAST(trim(" + jsonText(s) + ") AS DOUBLE) END)"
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
			out.sql = "(CASE json_type(" + s + ") WHEN 'BOOLEAN' THEN CAST(" + s + " AS BOOLEAN) WHEN 'BIGINT' THEN CAST(" + s + " AS DOUBLE) <> 0 WHEN 'UBIGINT' THEN CAST(" + s + " AS DOUBLE) <> 0 WHEN 'DOUBLE' THEN CAST(" + s + " AS DOUBLE) <> 0 WHEN 'VARCHAR' THEN " + stringToBoolSQL(jsonText(s)) + " END)"
		default:
			out.sql = "CAST(NULL AS BOOLEAN)"
		}
	case DateTime:
		switch x.t {
		case String:
			out.sql = stringToDateTimeSQL(s)
		case Dynamic:
			out.sql = "(CASE WHEN json_type(" + s + ") = 'VARCHAR' THEN " + stringToDateTimeSQL(jsonText(s)) + " END)"
		default:
			out.sql = "CAST(NULL AS TIMESTAMP_NS)"
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

// jsonText is the text of a JSON string value (NULL for other JSON). A
// function, not DuckDB's ->> operator, whose low precedence would bind
// "x->>'$' = ”" as "x->>('$' = ”)".
func jsonText(x string) string { return "json_extract_string(" + x + ", '$')" }

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
		if x.path != nil {
			// json_extract_string gives a string's text, null for null
			// or a missing key, and the JSON text of anything else, just
			// as the CASE below does for the extracted value, in one call.
			return "json_extract_string(" + x.path.base + ", " + QuoteString(x.path.path) + ")"
		}
		return "(CASE WHEN " + jsonIs(s, "STRING") + " THEN " + jsonText(s) + " WHEN " + jsonIs(s, "NULL") + " THEN NULL ELSE CAST(" + s + " AS VARCHAR) END)"
	}
	return "NULL"
}

// dateTimeStringSQL formats a datetime like Kusto: 2024-01-31T13:45:00Z, or
// with seven fractional digits when there is a fraction.
func dateTimeStringSQL(s string) string {
	ticks := "((epoch_ns(" + s + ") % 1000000000 + 1000000000) % 1000000000 // 100)"
	return "(strftime(" + s + ", '%Y-%m-%dT%H:%M:%S') || CASE WHEN " + ticks + " = 0 THEN '' ELSE '.' || lpad(CAST(" + ticks + " AS VARCHAR), 7, '0') END || 'Z')"
}

// timespanStringSQL formats ticks like Kusto: [-][d.]hh:mm:ss[.fffffff].
func timespanStringSQL(s string) string {
	a := "abs(" + s + ")"
	pad := func(v string) string { return "lpad(CAST(" + v + " AS VARCHAR), 2, '0')" }
	return "(CASE WHEN " + s + " < 0 THEN '-' ELSE '' END" +
		" || CASE WHEN " + a + " >= 864000000000 THEN CAST(" + a + " // 864000000000 AS VARCHAR) || '.' ELSE '' END" +
		" || " + pad("("+a+" // 36000000000) % 24") + " || ':' || " + pad("("+a+" // 600000000) % 60") + " || ':' || " + pad("("+a+" // 10000000) % 60") +
		" || CASE WHEN " + a + " % 10000000 <> 0 THEN '.' || lpad(CAST(" + a + " % 10000000 AS VARCHAR), 7, '0') ELSE '' END)"
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
		return ticksSQL(s)
	case Timespan: // ticks
		return s
	case Dynamic:
		return "(CASE json_type(" + s + ") WHEN 'BIGINT' THEN CAST(" + s + " AS BIGINT) WHEN 'UBIGINT' THEN TRY_CAST(" + s + " AS BIGINT)" +
			" WHEN 'DOUBLE' THEN TRY_CAST(trunc(CAST(" + s + " AS DOUBLE)) AS BIGINT) WHEN 'BOOLEAN' THEN CAST(CAST(" + s + " AS BOOLEAN) AS BIGINT)" +
			" WHEN 'VARCHAR' THEN " + stringToLongSQL(jsonText(s)) + " END)"
	}
	return "NULL"
}

func stringToLongSQL(s string) string {
	return "(CASE WHEN regexp_full_match(trim(" + s + "), '[+-]?[0-9]+') THEN TRY_CAST(trim(" + s + ") AS BIGINT) END)"
}

func stringToBoolSQL(s string) string {
	return "(CASE lower(trim(" + s + ")) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE WHEN '1' THEN TRUE WHEN '0' THEN FALSE END)"
}

// stringToDateTimeSQL is ParseDateTimeSQL.
func stringToDateTimeSQL(s string) string { return ParseDateTimeSQL(s) }

// dateTimeLayouts are the strptime forms accepted besides ISO 8601: RFC 822
// and 1123 (Kusto's datetime formats) and the Logs page's CSV export
// ("5/1/2024, 10:00:00.123 PM").
const dateTimeLayouts = `['%a, %-d %b %y %H:%M:%S GMT', '%a, %-d %b %Y %H:%M:%S GMT', '%-d %b %Y %H:%M:%S GMT', '%m/%d/%Y, %I:%M:%S.%g %p', '%m/%d/%Y, %I:%M:%S %p']`

// ParseDateTimeSQL returns SQL that parses the text s as a datetime, in UTC,
// or NULL. Datetimes are TIMESTAMP_NS, so years outside 1678..2261 are NULL
// too; try() because DuckDB's TRY_CAST to TIMESTAMP_NS throws on them. It is the one datetime parser of the SQL side: todatetime() and
// ingest both use it. ISO 8601 ending in Z or without a zone keeps all seven
// fractional digits (Kusto's ticks); one with another offset is converted
// through TIMESTAMPTZ (microseconds). The leading digit keeps out DuckDB's
// own words 'epoch' and 'infinity', which Kusto does not accept.
func ParseDateTimeSQL(s string) string {
	t := "trim(" + s + ")"
	return "coalesce(CASE WHEN left(" + t + ", 1) BETWEEN '0' AND '9' THEN coalesce(" +
		"CASE WHEN NOT regexp_matches(" + t + ", '[+-][0-9][0-9]:?[0-9][0-9]$') THEN TRY_CAST(" + t + " AS TIMESTAMP_NS) END" +
		", try(CAST(TRY_CAST(" + t + " AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP_NS))) END" +
		", try(CAST(try_strptime(" + t + ", " + dateTimeLayouts + ") AS TIMESTAMP_NS)))"
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
