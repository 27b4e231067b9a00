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
// as in workbooks: given as a timespan (7d, the default 24h) or as
// START..END (two datetimes), {TimeRange} and {TimeRange:query} become a
// filter ("> ago(7d)" or "between (datetime(S) .. datetime(E))"),
// {TimeRange:start} and {TimeRange:end} become datetime literals,
// {TimeRange:grain} a timespan and {TimeRange:label} its label. An unset
// parameter is an *Error pointing at the placeholder.
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
		if name == "TimeRange" {
			s, err := timeRange(values[name], option, now)
			if err != nil {
				firstErr = Errorf(sp, "%v", err).WithHint("pass --param TimeRange=7d, or --param TimeRange=2026-01-01..2026-02-01")
			}
			return s
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
