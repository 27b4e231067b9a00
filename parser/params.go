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
	comments := commentSpans(text)
	var out strings.Builder
	last := 0
	for _, loc := range placeholder.FindAllStringSubmatchIndex(text, -1) {
		if inSpans(loc[0], comments) {
			continue // a placeholder in a // comment is left as written
		}
		sp := Span{loc[0], loc[1]}
		name, option := text[loc[2]:loc[3]], ""
		if loc[4] >= 0 {
			option = text[loc[4]:loc[5]]
		}
		v, err := parameterValue(name, option, values, now, sp)
		if err != nil {
			return "", err
		}
		out.WriteString(text[last:loc[0]])
		out.WriteString(v)
		last = loc[1]

	}
	out.WriteString(text[last:])
	return out.String(), nil
}

// parameterValue is the text that replaces the placeholder {name:option}.
func parameterValue(name, option string, values map[string]string, now time.Time, sp Span) (string, error) {
	if name == "TimeRange" || isTimeRangeOption(option) {
		v, ok := values[name]
		if !ok && name != "TimeRange" {
			return "", Errorf(sp, "the workbook time range parameter '%s' is not set", name).WithHint("pass --param %s=7d, or --param %s=2026-01-01..2026-02-01", name, name)
		}
		s, err := timeRange(v, option, now)
		if err != nil {
			return "", Errorf(sp, "%v", err).WithHint("pass --param %s=7d, or --param %s=2026-01-01..2026-02-01", name, name)
		}
		return s, nil
	}
	if option == "label" {
		// A workbook drop-down's label can differ from its value
		// ('*' is shown as "All"): --param Name:label=All sets it.
		if v, ok := values[name+":label"]; ok {
			return v, nil
		}
	}
	v, ok := values[name]
	if !ok {
		return "", Errorf(sp, "the workbook parameter '%s' is not set", name).WithHint("pass --param %s=VALUE", name)
	}
	switch option {
	case "", "label", "value":
		return v, nil
	}
	return "", Errorf(sp, "unknown option '%s' of the workbook parameter '%s'", option, name)
}

// commentSpans finds the // comments of a query, skipping string literals
// ("…", '…' with \ escapes, @"…" and @'…' verbatim, ```…``` multi-line),
// whose // is text.
func commentSpans(text string) []Span {
	var spans []Span
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case strings.HasPrefix(text[i:], "```"):
			end := strings.Index(text[i+3:], "```")
			if end < 0 {
				return spans
			}
			i += 3 + end + 2
		case c == '@' && i+1 < len(text) && (text[i+1] == '"' || text[i+1] == '\''):
			q := text[i+1]
			j := i + 2
			for j < len(text) {
				if text[j] == q {
					if j+1 < len(text) && text[j+1] == q {
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = j
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(text) && text[j] != c && text[j] != '\n' {
				if text[j] == '\\' {
					j++
				}
				j++
			}
			i = j
		case strings.HasPrefix(text[i:], "//"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				end = len(text) - i
			}
			spans = append(spans, Span{i, i + end})
			i += end
		}
	}
	return spans
}

func inSpans(pos int, spans []Span) bool {
	for _, s := range spans {
		if pos >= s.Start && pos < s.End {
			return true
		}
	}
	return false
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
