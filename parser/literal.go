package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// decodeString decodes a KQL string literal token: "..." or '...' with
// backslash escapes, @"..." verbatim (a doubled quote stands for one),
// ```...``` multi-line, any of them optionally h-prefixed (obfuscated).
func decodeString(raw string) (string, error) {
	if strings.HasPrefix(raw, "h") || strings.HasPrefix(raw, "H") {
		raw = raw[1:]
	}
	if len(raw) < 2 || raw[0] == '@' && len(raw) < 3 {
		return "", fmt.Errorf("malformed string literal %q", raw)
	}
	var s string
	switch {
	case strings.HasPrefix(raw, "```"), strings.HasPrefix(raw, "~~~"):
		s = raw[3 : len(raw)-3]
	case strings.HasPrefix(raw, "@"):
		q := raw[1:2]
		s = strings.ReplaceAll(raw[2:len(raw)-1], q+q, q)
	default:
		var err error
		if s, err = unescape(raw[1 : len(raw)-1]); err != nil {
			return "", err
		}
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("a string literal cannot contain a NUL character")
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("a string literal is not valid UTF-8")
	}
	return s, nil
}

func unescape(body string) (string, error) {
	if !strings.Contains(body, `\`) {
		return body, nil
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(body) {
			return "", fmt.Errorf("a string literal ends with a lone backslash")
		}
		switch body[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\', '"', '\'':
			b.WriteByte(body[i])
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case 'x', 'u', 'U':
			digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[body[i]]
			if i+digits >= len(body) {
				return "", fmt.Errorf(`\%c must be followed by %d hex digits`, body[i], digits)
			}
			n, err := strconv.ParseUint(body[i+1:i+1+digits], 16, 32)
			if err != nil || !utf8.ValidRune(rune(n)) {
				return "", fmt.Errorf(`\%c must be followed by %d hex digits`, body[i], digits)
			}
			b.WriteRune(rune(n))
			i += digits
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(body) && j < i+3 && body[j] >= '0' && body[j] <= '7' {
				j++
			}
			n, _ := strconv.ParseUint(body[i:j], 8, 32)
			b.WriteRune(rune(n))
			i = j - 1
		default:
			return "", fmt.Errorf(`unknown escape sequence '\%c' in a string literal (write \\ for a backslash, or use @"..." for a verbatim string)`, body[i])
		}
	}
	return b.String(), nil
}

// timespanUnits maps the unit suffixes of timespan literals to durations.
var timespanUnits = map[string]time.Duration{
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond, "millisec": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"micro": time.Microsecond, "micros": time.Microsecond, "microsec": time.Microsecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"nano": time.Nanosecond, "nanos": time.Nanosecond, "nanosec": time.Nanosecond,
	"nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
	"tick": 100 * time.Nanosecond, "ticks": 100 * time.Nanosecond,
}

// parseTimespanToken parses "1d", "1.5h", "100ms".
func parseTimespanToken(tok string) (time.Duration, error) {
	i := strings.IndexFunc(tok, func(r rune) bool { return r != '.' && (r < '0' || r > '9') })
	n, err := strconv.ParseFloat(tok[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("bad timespan %q", tok)
	}
	unit := timespanUnits[tok[i:]]
	f := n * float64(unit)
	if f > math.MaxInt64 {
		return 0, fmt.Errorf("timespan %q is out of range", tok)
	}
	// Round to the 100ns tick, Kusto's resolution.
	return time.Duration(math.Round(f/100)) * 100, nil
}

// parseTypedLiteral parses datetime(...), date(...), timespan(...), time(...).
func parseTypedLiteral(sp Span, tok string) (*Literal, error) {
	open := strings.IndexByte(tok, '(')
	name, body := tok[:open], strings.TrimSpace(tok[open+1:len(tok)-1])
	if n := stringLit(body); n > 0 && n == len(body) {
		s, err := decodeString(body)
		if err != nil {
			return nil, Errorf(sp, "%v", err)
		}
		body = strings.TrimSpace(s)
	}
	switch name {
	case "datetime", "date":
		if body == "null" {
			return &Literal{At: At{sp}, Kind: DateTimeLit, Null: true}, nil
		}
		t, err := ParseDateTime(body)
		if err != nil {
			return nil, Errorf(sp, "%v", err).WithHint("write datetimes as datetime(2024-01-31) or datetime(2024-01-31T13:45:00Z)")
		}
		return &Literal{At: At{sp}, Kind: DateTimeLit, Time: t}, nil
	default:
		if body == "null" {
			return &Literal{At: At{sp}, Kind: TimespanLit, Null: true}, nil
		}
		d, err := ParseTimespan(body)
		if err != nil {
			return nil, Errorf(sp, "%v", err).WithHint("write timespans as 1d, 2h, 30m, 10s, 100ms or time(1.02:03:04)")
		}
		return &Literal{At: At{sp}, Kind: TimespanLit, Duration: d}, nil
	}
}

// dateTimeLayouts are the forms datetime(...) accepts: ISO 8601 with a 'T' or
// a space, with or without seconds, fraction and zone, and RFC 822/850.
var dateTimeLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006-1-2T15:04:05.999999999Z07:00", // Kusto allows months and days without a leading zero
	"2006-1-2 15:04:05.999999999",
	"2006-1-2 15:04",
	"2006-1-2",
	"2006-01",
	time.RFC1123,
	time.RFC1123Z,
	time.RFC850,
	time.RFC822,
	time.RFC822Z,
	"Mon, 2 Jan 2006 15:04:05 MST",
}

// ParseDateTime parses the datetime forms KQL accepts; the result is UTC.
// A time without a zone is UTC.
func ParseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as a datetime", s)
}

// ParseTimespan parses "[-][d.]hh:mm[:ss[.fffffff]]" or a unit form like "1d".
func ParseTimespan(s string) (time.Duration, error) {
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	if n, err := strconv.ParseFloat(body, 64); err == nil && !strings.ContainsAny(body, "eE") {
		// A bare number counts days: timespan(2) is two days.
		body = strconv.FormatFloat(n, 'f', -1, 64) + "d"
	}
	if _, ok := timespanUnits[strings.TrimLeft(body, "0123456789.")]; ok && body != "" && body[0] != '.' {
		d, err := parseTimespanToken(body)
		if neg {
			d = -d
		}
		return d, err
	}
	var days int64
	if dot := strings.IndexByte(body, '.'); dot >= 0 && dot < strings.IndexByte(body+":", ':') {
		n, err := strconv.ParseInt(body[:dot], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cannot parse %q as a timespan", s)
		}
		days, body = n, body[dot+1:]
	}
	parts := strings.Split(body, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("cannot parse %q as a timespan", s)
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	var sec float64
	var err3 error
	if len(parts) == 3 {
		sec, err3 = strconv.ParseFloat(parts[2], 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || m >= 60 || sec >= 60 || h < 0 || m < 0 || sec < 0 {
		return 0, fmt.Errorf("cannot parse %q as a timespan", s)
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(math.Round(sec*1e7))*100
	if neg {
		d = -d
	}
	return d, nil
}

func parseNumber(sp Span, tok string) (*Literal, error) {
	if strings.HasPrefix(tok, "0x") || strings.HasPrefix(tok, "0X") {
		n, err := strconv.ParseInt(tok[2:], 16, 64)
		if err != nil {
			return nil, Errorf(sp, "hex literal %s is out of range for long", tok)
		}
		return &Literal{At: At{sp}, Kind: LongLit, Int: n}, nil
	}
	if strings.ContainsAny(tok, ".eE") {
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, Errorf(sp, "bad real literal %s", tok)
		}
		return &Literal{At: At{sp}, Kind: RealLit, Real: f}, nil
	}
	n, err := strconv.ParseInt(tok, 10, 64)
	if err != nil {
		return nil, Errorf(sp, "integer literal %s is out of range for long", tok)
	}
	return &Literal{At: At{sp}, Kind: LongLit, Int: n}, nil
}

// literalFuncs are the function-style literals: int(5), long(null), real(nan).
var literalFuncs = map[string]LiteralKind{
	"int": IntLit, "long": LongLit, "real": RealLit, "double": RealLit,
	"bool": BoolLit, "boolean": BoolLit,
}

// typedScalarLiteral turns int(5), long(-3), real(nan), bool(true), int(null)
// into a Literal. ok is false when the argument is not a literal at all.
func typedScalarLiteral(sp Span, kind LiteralKind, g *gExpr) (lit *Literal, ok bool, err error) {
	arg, err := lowerExpr(g)
	if err != nil {
		return nil, false, err
	}
	neg := false
	if u, isUnary := arg.(*Unary); isUnary {
		neg, arg = u.Op == "-", u.X
	}
	out := &Literal{At: At{sp}, Kind: kind}
	switch a := arg.(type) {
	case *Ident:
		switch {
		case a.Name == "null" && !neg:
			out.Null = true
			return out, true, nil
		case kind == RealLit && (a.Name == "nan" || a.Name == "inf"):
			out.Real = math.NaN()
			if a.Name == "inf" {
				out.Real = math.Inf(1)
				if neg {
					out.Real = math.Inf(-1)
				}
			}
			return out, true, nil
		}
	case *Literal:
		switch {
		case kind == BoolLit && a.Kind == BoolLit && !neg:
			out.Bool = a.Bool
			return out, true, nil
		case (kind == IntLit || kind == LongLit) && a.Kind == LongLit:
			out.Int = a.Int
			if neg {
				out.Int = -out.Int
			}
			if kind == IntLit && (out.Int > math.MaxInt32 || out.Int < math.MinInt32) {
				return nil, false, Errorf(sp, "%d is out of range for int", out.Int)
			}
			return out, true, nil
		case kind == RealLit && (a.Kind == LongLit || a.Kind == RealLit):
			out.Real = a.Real
			if a.Kind == LongLit {
				out.Real = float64(a.Int)
			}
			if neg {
				out.Real = -out.Real
			}
			return out, true, nil
		}
	}
	return nil, false, Errorf(sp, "%s(...) takes a literal value", kind)
}

// dynamicJSON renders the value inside dynamic(...) as compact JSON text.
func dynamicJSON(g *gDynamic) (string, error) {
	var b bytes.Buffer
	if err := writeDynamic(&b, g); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeDynamic(b *bytes.Buffer, g *gDynamic) error {
	sp := span(g.Pos, g.EndPos)
	switch {
	case g.Null:
		b.WriteString("null")
	case g.Bool != "":
		b.WriteString(g.Bool)
	case g.Number != "":
		lit, err := parseNumber(sp, g.Number)
		if err != nil {
			return err
		}
		if g.Neg != "" {
			b.WriteByte('-')
		}
		if lit.Kind == RealLit {
			b.WriteString(strconv.FormatFloat(lit.Real, 'g', -1, 64))
		} else {
			b.WriteString(strconv.FormatInt(lit.Int, 10))
		}
	case g.String != "":
		s, err := decodeString(g.String)
		if err != nil {
			return Errorf(sp, "%v", err)
		}
		writeJSONString(b, s)
	case g.Time != "":
		lit, err := parseTypedLiteral(sp, g.Time)
		if err != nil {
			return err
		}
		if lit.Kind != DateTimeLit || lit.Null {
			return Errorf(sp, "only datetime values may appear inside dynamic(...)")
		}
		writeJSONString(b, lit.Time.Format("2006-01-02T15:04:05.0000000Z"))
	case g.IsObj:
		b.WriteByte('{')
		for i, f := range g.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			key, err := decodeString(f.Key)
			if err != nil {
				return Errorf(sp, "%v", err)
			}
			writeJSONString(b, key)
			b.WriteByte(':')
			if err := writeDynamic(b, f.Value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		b.WriteByte('[')
		for i, v := range g.Array {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeDynamic(b, v); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	}
	return nil
}

// writeJSONString writes s as a JSON string without HTML escaping.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's trailing newline
}
