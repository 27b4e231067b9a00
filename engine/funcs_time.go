package engine

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // time zone names are checked at compile time, on any machine

	"github.com/socq/socq/parser"
)

// The KQL datetime and timespan functions: datetime_diff/add/part,
// startof/endof, format_datetime, format_timespan, totimespan,
// make_datetime, unixtime_*.

// ticksSQL is a datetime as ticks since 0001-01-01.
func ticksSQL(dt string) string { return "(epoch_ns(" + dt + ") // 100 + " + ticksAtUnixEpoch + ")" }

// unixTicksSQL is a datetime as ticks since 1970. Differences of datetimes
// are taken in ticks: in nanoseconds, two datetimes of socq's range
// (1678-2261) can be further apart than a BIGINT holds.
func unixTicksSQL(dt string) string { return "(epoch_ns(" + dt + ") // 100)" }

// fromTicksSQL is the datetime of ticks since 0001-01-01.
func fromTicksSQL(ticks string) string {
	return "make_timestamp_ns((" + ticks + " - " + ticksAtUnixEpoch + ") * 100)"
}

var datetimePeriods = []string{"year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond", "microsecond", "nanosecond"}

// periodTicks are the fixed-length periods.
var periodTicks = map[string]int64{
	"week": ticksPerWeek, "day": ticksPerDay, "hour": ticksPerHour, "minute": ticksPerMinute,
	"second": ticksPerSecond, "millisecond": ticksPerMillisecond, "microsecond": ticksPerMicrosecond,
}

// datetimeDiff counts the period boundaries crossed from datetime2 to
// datetime1 (weeks start on Sunday), as Kusto does: datetime_diff('year',
// 2017-01-01, 2000-12-31) is 17.
func datetimeDiff(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	period, err := nameArg(call, args, 0, "period", datetimePeriods)
	if err != nil {
		return texpr{}, err
	}
	d1, err := dateTimeArg(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	d2, err := dateTimeArg(call, args, 2)
	if err != nil {
		return texpr{}, err
	}
	index := func(dt string) string {
		switch period {
		case "year":
			return "year(" + dt + ")"
		case "quarter":
			return "(year(" + dt + ") * 4 + quarter(" + dt + "))"
		case "month":
			return "(year(" + dt + ") * 12 + month(" + dt + "))"
		case "week": // shifted a day so that weeks start on Sunday
			return fmt.Sprintf("((%s + %d) // %d)", ticksSQL(dt), ticksPerDay, ticksPerWeek)
		case "nanosecond":
			return ticksSQL(dt)
		}
		return fmt.Sprintf("(%s // %d)", ticksSQL(dt), periodTicks[period])
	}
	sql := "(" + index(d1.sql) + " - " + index(d2.sql) + ")"
	if period == "nanosecond" { // null when it does not fit a long
		sql = "try(" + sql + " * 100)"
	}
	return texpr{sql: sql, t: Long}, nil
}

// addMonthsSQL adds months to a datetime, keeping its time of day; the day
// is clamped to the end of a shorter month (Jan 31 + 1 month is Feb 28).
func addMonthsSQL(dt, months string) string {
	return reuse([]string{dt}, func(v []string) string {
		midnight := "CAST(CAST(" + v[0] + " AS DATE) AS TIMESTAMP_NS)"
		return "try(make_timestamp_ns(epoch_ns(CAST(CAST(" + v[0] + " AS DATE) + to_months(CAST(" + months + " AS INTEGER)) AS TIMESTAMP_NS)) + (epoch_ns(" + v[0] + ") - epoch_ns(" + midnight + "))))"
	})
}

func datetimeAdd(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	period, err := nameArg(call, args, 0, "period", datetimePeriods)
	if err != nil {
		return texpr{}, err
	}
	amount, err := longArg(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	dt, err := dateTimeArg(call, args, 2)
	if err != nil {
		return texpr{}, err
	}
	var sql string
	switch period {
	case "year":
		sql = addMonthsSQL(dt.sql, "("+amount.sql+" * 12)")
	case "quarter":
		sql = addMonthsSQL(dt.sql, "("+amount.sql+" * 3)")
	case "month":
		sql = addMonthsSQL(dt.sql, amount.sql)
	case "nanosecond": // datetimes hold whole ticks
		sql = "try(make_timestamp_ns(epoch_ns(" + dt.sql + ") + " + amount.sql + " // 100 * 100))"
	default:
		sql = fmt.Sprintf("try(make_timestamp_ns(epoch_ns(%s) + CAST(%s AS BIGINT) * %d))", dt.sql, amount.sql, periodTicks[period]*100)
	}
	return texpr{sql: sql, t: DateTime}, nil
}

var dateParts = []string{"year", "quarter", "month", "week_of_year", "day", "dayofyear", "hour", "minute", "second", "millisecond", "microsecond", "nanosecond"}

// datePartSQL is datetime_part(part, dt), an int.
func datePartSQL(part, dt string) string {
	var sql string
	switch part {
	case "week_of_year": // ISO 8601, as Kusto's week_of_year
		sql = "weekofyear(" + dt + ")"
	case "millisecond":
		sql = fmt.Sprintf("(%s %% %d // %d)", ticksSQL(dt), ticksPerSecond, ticksPerMillisecond)
	case "microsecond":
		sql = fmt.Sprintf("(%s %% %d // %d)", ticksSQL(dt), ticksPerSecond, ticksPerMicrosecond)
	case "nanosecond":
		sql = fmt.Sprintf("(%s %% %d * 100)", ticksSQL(dt), ticksPerSecond)
	default:
		sql = part + "(" + dt + ")"
	}
	return "CAST(" + sql + " AS INTEGER)"
}

func datetimePart(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	part, err := nameArg(call, args, 0, "part", dateParts)
	if err != nil {
		return texpr{}, err
	}
	dt, err := dateTimeArg(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: datePartSQL(part, dt.sql), t: Int}, nil
}

// datetimePartOf makes getyear(), getmonth(), dayofmonth(), ...
func datetimePartOf(part string) function {
	return function{minArgs: 1, maxArgs: 1, compile: func(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
		dt, err := dateTimeArg(call, args, 0)
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: datePartSQL(part, dt.sql), t: Int}, nil
	}}
}

// dayOfWeek is the timespan since the start of the preceding Sunday, in
// whole days: 0001-01-01 was a Monday.
func dayOfWeek(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	dt, err := dateTimeArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: fmt.Sprintf("((%s // %d + 1) %% 7 * %d)", ticksSQL(dt.sql), ticksPerDay, ticksPerDay), t: Timespan}, nil
}

// startOf makes startofday(dt [, offset]) and its kin; with end it makes
// endofday and kin: the last tick before the next period starts.
func startOf(period string, end bool) function {
	return function{minArgs: 1, maxArgs: 2, compile: func(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
		dt, err := dateTimeArg(call, args, 0)
		if err != nil {
			return texpr{}, err
		}
		offset := texpr{sql: "0", t: Long}
		if len(args) == 2 {
			if offset, err = longArg(call, args, 1); err != nil {
				return texpr{}, err
			}
		}
		off := offset.sql
		if end {
			off = "(" + off + " + 1)"
		}
		var sql string
		switch period {
		case "day":
			sql = fromTicksSQL(fmt.Sprintf("(%s // %d + %s) * %d", ticksSQL(dt.sql), ticksPerDay, off, ticksPerDay))
		case "week": // weeks start on Sunday, a day before 0001-01-01's week
			sql = fromTicksSQL(fmt.Sprintf("((%s + %d) // %d + %s) * %d - %d", ticksSQL(dt.sql), ticksPerDay, ticksPerWeek, off, ticksPerWeek, ticksPerDay))
		case "month":
			sql = "CAST(CAST(date_trunc('month', " + dt.sql + ") AS DATE) + to_months(CAST(" + off + " AS INTEGER)) AS TIMESTAMP_NS)"
		case "year":
			sql = "CAST(CAST(date_trunc('year', " + dt.sql + ") AS DATE) + to_years(CAST(" + off + " AS INTEGER)) AS TIMESTAMP_NS)"
		}
		if end {
			sql = "make_timestamp_ns(epoch_ns(" + sql + ") - 100)"
		}
		return texpr{sql: "try(" + sql + ")", t: DateTime}, nil
	}}
}

// formatElement is one element of a format_datetime or format_timespan
// format: SQL text for it, given the SQL of the value's parts.
type formatElement func(parts map[string]string) string

func paddedSQL(v string, n int) string {
	return fmt.Sprintf("lpad(CAST(%s AS VARCHAR), %d, '0')", v, n)
}

// fractionElement is f…fffffff (digits of the fraction of a second) or,
// when optional, F…FFFFFFF (the same without trailing zeros).
func fractionElement(n int, optional bool) formatElement {
	return func(p map[string]string) string {
		div := int64(1)
		for i := n; i < 7; i++ {
			div *= 10
		}
		s := paddedSQL(fmt.Sprintf("(%s // %d)", p["ticks"], div), n)
		if optional {
			s = "rtrim(" + s + ", '0')"
		}
		return s
	}
}

func fractionElements(m map[string]formatElement) map[string]formatElement {
	for n := 1; n <= 7; n++ {
		m[strings.Repeat("f", n)] = fractionElement(n, false)
		m[strings.Repeat("F", n)] = fractionElement(n, true)
	}
	return m
}

func partElement(name string, width int) formatElement {
	return func(p map[string]string) string {
		if width == 0 {
			return "CAST(" + p[name] + " AS VARCHAR)"
		}
		return paddedSQL(p[name], width)
	}
}

var dateTimeElements = fractionElements(map[string]formatElement{
	"yyyy": partElement("year", 4), "yy": partElement("year2", 2), "y": partElement("year2", 0),
	"MM": partElement("month", 2), "M": partElement("month", 0), "dd": partElement("day", 2), "d": partElement("day", 0),
	"HH": partElement("hour", 2), "H": partElement("hour", 0), "hh": partElement("hour12", 2), "h": partElement("hour12", 0),
	"mm": partElement("minute", 2), "m": partElement("minute", 0), "ss": partElement("second", 2), "s": partElement("second", 0),
	"tt": func(p map[string]string) string { return "(CASE WHEN " + p["hour"] + " < 12 THEN 'AM' ELSE 'PM' END)" },
})

var timespanElements = func() map[string]formatElement {
	m := fractionElements(map[string]formatElement{
		"HH": partElement("hour", 2), "H": partElement("hour", 0), "hh": partElement("hour", 2), "h": partElement("hour", 0),
		"mm": partElement("minute", 2), "m": partElement("minute", 0), "ss": partElement("second", 2), "s": partElement("second", 0),
	})
	for n := 1; n <= 8; n++ {
		m[strings.Repeat("d", n)] = partElement("days", n)
	}
	return m
}()

// formatSQL compiles a format_datetime/format_timespan format: runs of a
// format letter are elements, anything else is literal text.
func formatSQL(call *parser.Call, args []texpr, elements map[string]formatElement, known string, parts map[string]string) (string, error) {
	format, err := literalString(call, args, 1, "the format")
	if err != nil {
		return "", err
	}
	var out []string
	literal := ""
	for i := 0; i < len(format); {
		j := i
		for j < len(format) && format[j] == format[i] {
			j++
		}
		run := format[i:j]
		i = j
		if !strings.ContainsRune("dfFhHmMsyt", rune(run[0])) {
			literal += run
			continue
		}
		el, ok := elements[run]
		if !ok {
			return "", parser.Errorf(call.Args[1].Span(), "%s() does not know the format element '%s'", call.Func.Name, run).
				WithHint("use %s; other characters are copied", known)
		}
		if literal != "" {
			out = append(out, QuoteString(literal))
			literal = ""
		}
		out = append(out, el(parts))
	}
	if literal != "" {
		out = append(out, QuoteString(literal))
	}
	if len(out) == 0 {
		return "''", nil
	}
	return "coalesce(" + strings.Join(out, " || ") + ", '')", nil
}

func formatDateTime(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	dt, err := dateTimeArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	var ferr error
	sql := reuse([]string{dt.sql}, func(v []string) string {
		d := v[0]
		s, err := formatSQL(call, args, dateTimeElements, "yyyy, yy, y, MM, M, dd, d, HH, H, hh, h, mm, m, ss, s, f to fffffff, F to FFFFFFF, tt", map[string]string{
			"year": "year(" + d + ")", "year2": "(year(" + d + ") % 100)", "month": "month(" + d + ")", "day": "day(" + d + ")",
			"hour": "hour(" + d + ")", "hour12": "((hour(" + d + ") + 11) % 12 + 1)", "minute": "minute(" + d + ")", "second": "second(" + d + ")",
			"ticks": fmt.Sprintf("(%s %% %d)", ticksSQL(d), ticksPerSecond),
		})
		ferr = err
		return s
	})
	return texpr{sql: sql, t: String}, ferr
}

// formatTimespan formats the absolute value of a timespan (a sign is not
// printed, as .NET's custom timespan formats do).
func formatTimespan(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	ts, err := timespanArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	var ferr error
	sql := reuse([]string{ts.sql}, func(v []string) string {
		a := "abs(" + v[0] + ")"
		s, err := formatSQL(call, args, timespanElements, "d to dddddddd, HH, H, hh, h, mm, m, ss, s, f to fffffff, F to FFFFFFF", map[string]string{
			"days":   fmt.Sprintf("(%s // %d)", a, ticksPerDay),
			"hour":   fmt.Sprintf("(%s // %d %% 24)", a, ticksPerHour),
			"minute": fmt.Sprintf("(%s // %d %% 60)", a, ticksPerMinute),
			"second": fmt.Sprintf("(%s // %d %% 60)", a, ticksPerSecond),
			"ticks":  fmt.Sprintf("(%s %% %d)", a, ticksPerSecond),
		})
		ferr = err
		return s
	})
	return texpr{sql: sql, t: String}, ferr
}

// timespanPattern is .NET's [-][d.]hh:mm[:ss[.fffffff]], which Kusto
// prints and parses.
const timespanPattern = `^\s*(-)?(?:([0-9]+)\.)?([0-9]+):([0-9]+)(?::([0-9]+)(?:\.([0-9]{1,7}))?)?\s*$`

// timespanLiteralPattern is the notation of KQL's timespan literals: 1d, 1.5h, 30m.
const timespanLiteralPattern = `^\s*(-)?([0-9]+(?:\.[0-9]+)?)(d|h|m|s|ms)\s*$`

// stringToTimespanSQL parses text as a timespan, or NULL.
func stringToTimespanSQL(text string) string {
	return reuse([]string{text}, func(v []string) string {
		group := func(pattern string, n int) string {
			return fmt.Sprintf("regexp_extract(%s, %s, %d)", v[0], QuoteString(pattern), n)
		}
		num := func(n int) string { return "coalesce(TRY_CAST(" + group(timespanPattern, n) + " AS BIGINT), 0)" }
		sign := func(pattern string) string { return "(CASE WHEN " + group(pattern, 1) + " = '-' THEN -1 ELSE 1 END)" }
		clock := fmt.Sprintf("(CASE WHEN %s < 24 AND %s < 60 AND %s < 60 THEN %s * (%s * %d + %s * %d + %s * %d + %s * %d + coalesce(TRY_CAST(rpad(%s, 7, '0') AS BIGINT), 0)) END)",
			num(3), num(4), num(5), sign(timespanPattern), num(2), ticksPerDay, num(3), ticksPerHour, num(4), ticksPerMinute, num(5), ticksPerSecond, group(timespanPattern, 6))
		unit := fmt.Sprintf("(CASE %s WHEN 'd' THEN %d WHEN 'h' THEN %d WHEN 'm' THEN %d WHEN 's' THEN %d WHEN 'ms' THEN %d END)",
			group(timespanLiteralPattern, 3), ticksPerDay, ticksPerHour, ticksPerMinute, ticksPerSecond, ticksPerMillisecond)
		literal := "CAST(round(" + sign(timespanLiteralPattern) + " * CAST(" + group(timespanLiteralPattern, 2) + " AS DOUBLE) * " + unit + ") AS BIGINT)"
		return "try(CASE WHEN regexp_full_match(" + v[0] + ", " + QuoteString(timespanPattern) + ") THEN " + clock +
			" WHEN regexp_full_match(" + v[0] + ", " + QuoteString(timespanLiteralPattern) + ") THEN " + literal + " END)"
	})
}

// dynamicToTimespanSQL converts a dynamic string to a timespan (else NULL).
func dynamicToTimespanSQL(x string) string {
	return "(CASE WHEN json_type(" + x + ") = 'VARCHAR' THEN " + stringToTimespanSQL(jsonText(x)) + " END)"
}

func toTimespan(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	switch x := args[0]; x.t {
	case String:
		return texpr{sql: stringToTimespanSQL(x.sql), t: Timespan}, nil
	case Timespan, Dynamic, Null:
		return timespanArg(call, args, 0)
	}
	return texpr{}, argError(call, 0, "a string", args[0].t)
}

// makeDateTime is make_datetime(year, month, day [, hour, minute [,
// second]]); an invalid date or time gives null.
func makeDateTime(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	if len(args) == 4 {
		return texpr{}, parser.Errorf(call.Span(), "make_datetime() takes 3, 5 or 6 arguments: year, month, day [, hour, minute [, second]]")
	}
	vals := make([]string, 6)
	vals[3], vals[4], vals[5] = "0", "0", "0"
	for i := range args {
		get := longArg
		if i == 5 {
			get = realArg
		}
		x, err := get(call, args, i)
		if err != nil {
			return texpr{}, err
		}
		vals[i] = x.sql
	}
	date := "CAST(make_date(" + vals[0] + ", " + vals[1] + ", " + vals[2] + ") AS TIMESTAMP_NS)"
	if len(args) == 3 {
		return texpr{sql: "try(" + date + ")", t: DateTime}, nil
	}
	return texpr{sql: reuse(vals[3:], func(v []string) string {
		return fmt.Sprintf("try(CASE WHEN %s BETWEEN 0 AND 23 AND %s BETWEEN 0 AND 59 AND %s >= 0 AND %s < 60 THEN make_timestamp_ns(epoch_ns(%s) + %s * %d + %s * %d + CAST(round(%s * %d) AS BIGINT) * 100) END)",
			v[0], v[1], v[2], v[2], date, v[0], ticksPerHour*100, v[1], ticksPerMinute*100, v[2], ticksPerSecond)
	}), t: DateTime}, nil
}

// unixtimeToDateTime makes unixtime_seconds_todatetime and
// unixtime_milliseconds_todatetime; whole numbers are converted exactly.
func unixtimeToDateTime(nsPerUnit int64) function {
	return function{minArgs: 1, maxArgs: 1, compile: func(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
		if x := args[0]; x.t == Int || x.t == Long {
			return texpr{sql: fmt.Sprintf("try(make_timestamp_ns(CAST(%s AS BIGINT) * %d))", x.sql, nsPerUnit), t: DateTime}, nil
		}
		x, err := realArg(call, args, 0)
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: fmt.Sprintf("try(make_timestamp_ns(CAST(round(%s * %d) AS BIGINT) * 100))", x.sql, nsPerUnit/100), t: DateTime}, nil
	}}
}

// Math.

// binAt is bin_at(value, size, fixed_point): value rounded down to a
// multiple of size counted from fixed_point, for datetimes (timespan size)
// and numbers (Kusto docs, bin-at-function).
func binAt(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	x, size, fixed := args[0], args[1], args[2]
	if size.lit != nil && size.lit.Kind == parser.TimespanLit && size.lit.Duration <= 0 {
		return texpr{}, parser.Errorf(call.Args[1].Span(), "the bin size must be positive")
	}
	switch {
	case x.t == DateTime && size.t == Timespan && fixed.t == DateTime:
		// A bin outside socq's datetime range is null.
		return texpr{sql: reuse([]string{unixTicksSQL(x.sql), size.sql, unixTicksSQL(fixed.sql)}, func(v []string) string {
			return "try(make_timestamp_ns((" + v[2] + " + CAST(floor((" + v[0] + " - " + v[2] + ") / " + v[1] + ") AS BIGINT) * " + v[1] + ") * 100))"
		}), t: DateTime}, nil
	case x.t == Timespan && size.t == Timespan && fixed.t == Timespan:
		return texpr{sql: reuse([]string{x.sql, size.sql, fixed.sql}, func(v []string) string {
			return "(" + v[2] + " + CAST(floor((" + v[0] + " - " + v[2] + ") / " + v[1] + ") AS BIGINT) * " + v[1] + ")"
		}), t: Timespan}, nil
	case x.t.numeric() && size.t.numeric() && fixed.t.numeric():
		t := Real
		if x.t != Real && size.t != Real && fixed.t != Real {
			t = Long
		}
		return texpr{sql: reuse([]string{convert(x, Real).sql, convert(size, Real).sql, convert(fixed, Real).sql}, func(v []string) string {
			return "CAST(" + v[2] + " + floor((" + v[0] + " - " + v[2] + ") / " + v[1] + ") * " + v[1] + " AS " + t.SQLType() + ")"
		}), t: t}, nil
	}
	return texpr{}, parser.Errorf(call.Span(), "bin_at() cannot round a %s by a %s from a %s", x.t, size.t, fixed.t)
}

// zoneShift is datetime_utc_to_local(from, timezone) (toLocal) or
// datetime_local_to_utc: from moved by the zone's UTC offset at that
// instant, daylight saving included. The zone is an IANA name, checked when
// the query compiles (Kusto docs, datetime-utc-to-local-function).
func zoneShift(toLocal bool) func(*compiler, *parser.Call, []texpr) (texpr, error) {
	return func(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
		dt, err := dateTimeArg(call, args, 0)
		if err != nil {
			return texpr{}, err
		}
		zone, err := literalString(call, args, 1, "a time zone name (IANA, such as 'Europe/Paris')")
		if err != nil {
			return texpr{}, err
		}
		if _, err := time.LoadLocation(zone); err != nil || zone == "" || zone == "Local" {
			return texpr{}, parser.Errorf(call.Args[1].Span(), "unknown time zone '%s'", zone).WithHint("use an IANA name, such as 'Europe/Paris' or 'US/Pacific'")
		}
		tz := QuoteString(zone)
		return texpr{sql: reuse([]string{dt.sql}, func(v []string) string {
			var offsetUS string
			if toLocal {
				instant := "CAST(" + v[0] + " AS TIMESTAMPTZ)"
				offsetUS = "(epoch_us(timezone(" + tz + ", " + instant + ")) - epoch_us(" + instant + "))"
			} else {
				wall := "CAST(" + v[0] + " AS TIMESTAMP)"
				offsetUS = "(epoch_us(timezone(" + tz + ", " + wall + ")) - epoch_us(" + wall + "))"
			}
			return "make_timestamp_ns(epoch_ns(" + v[0] + ") + " + offsetUS + " * 1000)"
		}), t: DateTime}, nil
	}
}
