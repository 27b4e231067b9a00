package parser

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Workbook parameters: queries copied from Azure Monitor workbooks carry
// {Name} and {Name:option} placeholders that the workbook fills in before the
// query runs. SubstituteParameters does the same from --param values.

var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?\}`)

// DefaultTimeRange is the TimeRange a workbook query gets when none is given.
const DefaultTimeRange = "24h"

// SubstituteParameters replaces workbook placeholders in text. A parameter's
// value replaces {Name} and {Name:label} as written. TimeRange is special,
// as in workbooks, and so is any parameter used as {Name:start},
// {Name:end} or {Name:grain} (a time brush): given as a timespan (7d; for
// TimeRange the default is 24h) or as
// START..END (two datetimes), {TimeRange} and {TimeRange:query} become a
// filter ("> ago(7d)" or "between (datetime(S) .. datetime(E))"),
// {TimeRange:start} and {TimeRange:end} become datetime literals,
// {TimeRange:grain} a timespan and {TimeRange:label} its label. The value
// "Name:label" replaces {Name:label} when given, as a workbook drop-down
// shows "All" for its value '*'. An unset parameter is an *Error pointing
// at the placeholder.
func SubstituteParameters(text string, values map[string]string, now time.Time) (string, error) {
	var firstErr error
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
		if firstErr != nil {
			return m
		}
		loc := strings.Index(text, m)
		sp := Span{loc, loc + len(m)}
		parts := placeholder.FindStringSubmatch(m)
		name, option := parts[1], parts[2]
		if name == "TimeRange" || isTimeRangeOption(option) {
			v, ok := values[name]
			if !ok && name != "TimeRange" {
				firstErr = Errorf(sp, "the workbook time range parameter '%s' is not set", name).WithHint("pass --param %s=7d, or --param %s=2026-01-01..2026-02-01", name, name)
				return m
			}
			s, err := timeRange(v, option, now)
			if err != nil {
				firstErr = Errorf(sp, "%v", err).WithHint("pass --param %s=7d, or --param %s=2026-01-01..2026-02-01", name, name)
			}
			return s
		}
		if option == "label" {
			// A workbook drop-down's label can differ from its value
			// ('*' is shown as "All"): --param Name:label=All sets it.
			if v, ok := values[name+":label"]; ok {
				return v
			}
		}
		v, ok := values[name]
		if !ok {
			firstErr = Errorf(sp, "the workbook parameter '%s' is not set", name).WithHint("pass --param %s=VALUE", name)
			return m
		}
		switch option {
		case "", "label", "value":
			return v
		}
		firstErr = Errorf(sp, "unknown option '%s' of the workbook parameter '%s'", option, name)
		return m
	})
	return out, firstErr
}

// isTimeRangeOption reports whether option is one only a time range
// parameter has: {TimeBrush:start} makes TimeBrush a time range.
func isTimeRangeOption(option string) bool {
	return option == "start" || option == "end" || option == "grain"
}

func timeRange(value, option string, now time.Time) (string, error) {
	if value == "" {
		value = DefaultTimeRange
	}
	var start, end time.Time
	var span time.Duration
	relative := !strings.Contains(value, "..")
	if relative {
		d, err := ParseTimespan(value)
		if err != nil || d <= 0 {
			return "", fmt.Errorf("TimeRange %q is neither a timespan nor START..END", value)
		}
		span, end = d, now
		start = now.Add(-d)
	} else {
		s, e, _ := strings.Cut(value, "..")
		var err1, err2 error
		start, err1 = ParseDateTime(s)
		end, err2 = ParseDateTime(e)
		if err1 != nil || err2 != nil || !end.After(start) {
			return "", fmt.Errorf("TimeRange %q is not START..END with START before END", value)
		}
		span = end.Sub(start)
	}
	lit := func(t time.Time) string { return (&Literal{Kind: DateTimeLit, Time: t}).String() }
	switch option {
	case "", "query", "value":
		if relative {
			return "> ago(" + formatTimespanLiteral(span) + ")", nil
		}
		return "between (" + lit(start) + " .. " + lit(end) + ")", nil
	case "start":
		return lit(start), nil
	case "end":
		return lit(end), nil
	case "grain":
		return formatTimespanLiteral(grain(span)), nil
	case "label":
		if relative {
			return "Last " + formatTimespanLiteral(span), nil
		}
		return start.Format(time.RFC3339) + " to " + end.Format(time.RFC3339), nil
	}
	return "", fmt.Errorf("unknown option '%s' of TimeRange (start, end, grain, label, query, value)", option)
}

// grain picks a chart bucket for a time range: about 50 buckets, rounded to
// a step a person would choose.
func grain(span time.Duration) time.Duration {
	for _, g := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour} {
		if span/g <= 50 {
			return g
		}
	}
	return 7 * 24 * time.Hour
}
