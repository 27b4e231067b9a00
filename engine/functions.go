package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/socq/socq/parser"
)

// resultNaming says how an unnamed call is named in project/extend output.
type resultNaming int

const (
	nameNone         resultNaming = iota // Column1, Column2, …
	nameFromArgument                     // tostring(Owner.email) → Owner_email
	nameWithArgument                     // strlen(Title) → strlen_Title
)

// function is one scalar KQL function: its arity, how its result is named,
// and how it compiles. Adding a function is one entry here and a golden case.
type function struct {
	minArgs, maxArgs int
	naming           resultNaming
	compile          func(c *compiler, call *parser.Call, args []texpr) (texpr, error)
}

// simple makes a function whose arguments convert to the given types and
// whose SQL is a template over them (%[1]s is the first argument).
func simple(result Type, template string, argTypes ...Type) function {
	return function{minArgs: len(argTypes), maxArgs: len(argTypes), compile: func(_ *compiler, _ *parser.Call, args []texpr) (texpr, error) {
		vals := make([]any, len(args))
		for i, a := range args {
			vals[i] = convert(a, argTypes[i]).sql
		}
		return texpr{sql: fmt.Sprintf(template, vals...), t: result}, nil
	}}
}

// conversion makes a to*() function: one argument of any type.
func conversion(to Type) function {
	return function{minArgs: 1, maxArgs: 1, naming: nameFromArgument, compile: func(_ *compiler, _ *parser.Call, args []texpr) (texpr, error) {
		return convert(args[0], to), nil
	}}
}

// byArgType makes a one-argument function whose SQL depends on the argument type.
func byArgType(result Type, sql func(x texpr) string) function {
	return function{minArgs: 1, maxArgs: 1, compile: func(_ *compiler, _ *parser.Call, args []texpr) (texpr, error) {
		return texpr{sql: sql(args[0]), t: result}, nil
	}}
}

var functions map[string]function

func init() {
	functions = map[string]function{
		"array_length": simple(Long, "(CASE WHEN json_type(%[1]s) = 'ARRAY' THEN json_array_length(%[1]s) END)", Dynamic),
		"isempty":      byArgType(Bool, isEmptySQL),
		"isnotempty":   byArgType(Bool, func(x texpr) string { return "(NOT " + isEmptySQL(x) + ")" }),
		"isnull":       byArgType(Bool, isNullSQL),
		"isnotnull":    byArgType(Bool, func(x texpr) string { return "(NOT " + isNullSQL(x) + ")" }),
		"tostring":     conversion(String),
		"toint":        conversion(Int),
		"tolong":       conversion(Long),
		"toreal":       conversion(Real),
		"todouble":     conversion(Real),
		"tobool":       conversion(Bool),
		"toboolean":    conversion(Bool),
		"todatetime":   conversion(DateTime),
		"parse_json":   {minArgs: 1, maxArgs: 1, naming: nameFromArgument, compile: parseJSON},
		"todynamic":    {minArgs: 1, maxArgs: 1, naming: nameFromArgument, compile: parseJSON},
		"not": {minArgs: 1, maxArgs: 1, compile: func(c *compiler, call *parser.Call, args []texpr) (texpr, error) {
			p, err := c.predicate(call.Args[0], args[0])
			return texpr{sql: "(NOT " + p + ")", t: Bool}, err
		}},
		"now": {minArgs: 0, maxArgs: 1, compile: func(c *compiler, call *parser.Call, args []texpr) (texpr, error) {
			if len(args) == 1 {
				return arithmetic(&parser.Binary{At: call.At, Op: "+"}, c.now(), args[0])
			}
			return c.now(), nil
		}},
		"ago": {minArgs: 1, maxArgs: 1, compile: func(c *compiler, call *parser.Call, args []texpr) (texpr, error) {
			return arithmetic(&parser.Binary{At: call.At, Op: "-"}, c.now(), args[0])
		}},
		"tolower": simple(String, "lower(%[1]s)", String),
		"toupper": simple(String, "upper(%[1]s)", String),
		"strlen":  {minArgs: 1, maxArgs: 1, naming: nameWithArgument, compile: simple(Long, "length(%[1]s)", String).compile},
		"strcat": {minArgs: 1, maxArgs: 64, compile: func(_ *compiler, _ *parser.Call, args []texpr) (texpr, error) {
			parts := make([]string, len(args))
			for i, a := range args {
				parts[i] = convert(a, String).sql
			}
			return texpr{sql: "(" + strings.Join(parts, " || ") + ")", t: String}, nil
		}},
		"bin":   {minArgs: 2, maxArgs: 2, naming: nameFromArgument, compile: bin},
		"floor": {minArgs: 2, maxArgs: 2, naming: nameFromArgument, compile: bin},
		"iff":   {minArgs: 3, maxArgs: 3, compile: iff},
		"iif":   {minArgs: 3, maxArgs: 3, compile: iff},
	}
}

func isEmptySQL(x texpr) string {
	switch x.t {
	case String:
		return "(" + x.sql + " = '')"
	case Dynamic:
		return "(" + x.sql + " IS NULL OR json_type(" + x.sql + ") = 'NULL' OR (json_type(" + x.sql + ") = 'VARCHAR' AND " + jsonText(x.sql) + " = ''))"
	}
	return "(" + x.sql + " IS NULL)"
}

func isNullSQL(x texpr) string {
	switch x.t {
	case String:
		return "FALSE" // Kusto strings are never null
	case Dynamic:
		return "(" + x.sql + " IS NULL OR json_type(" + x.sql + ") = 'NULL')"
	}
	return "(" + x.sql + " IS NULL)"
}

// parseJSON is parse_json/todynamic: a string holding JSON becomes that
// value, "" becomes null, other text becomes a dynamic string. A dynamic
// string holding JSON text (as Log Analytics exports carry) is parsed too.
func parseJSON(_ *compiler, _ *parser.Call, args []texpr) (texpr, error) {
	x := args[0]
	var text string
	switch x.t {
	case String:
		text = x.sql
	case Dynamic:
		text = jsonText(x.sql)
		return texpr{sql: "(CASE WHEN json_type(" + x.sql + ") = 'VARCHAR' AND json_valid(" + text + ") AND " + text + " <> '' THEN json(" + text + ") ELSE " + x.sql + " END)", t: Dynamic}, nil
	default:
		return convert(x, Dynamic), nil
	}
	return texpr{sql: "(CASE WHEN " + text + " = '' THEN NULL WHEN json_valid(" + text + ") THEN json(" + text + ") ELSE to_json(" + text + ") END)", t: Dynamic}, nil
}

// ticksAtUnixEpoch is 1970-01-01 in Kusto's ticks (100 ns since 0001-01-01).
const ticksAtUnixEpoch = "621355968000000000"

// bin rounds down to a multiple of size. Datetimes bin on Kusto's tick
// count since 0001-01-01, so 1d bins start at midnight UTC and 7d bins on
// Mondays (0001-01-01 was one), as in Kusto.
func bin(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	x, size := args[0], args[1]
	if x.t == Dynamic {
		x = convert(x, Real)
	}
	if s, ok := constReal(size); ok && s <= 0 || size.lit != nil && size.lit.Kind == parser.TimespanLit && size.lit.Duration <= 0 {
		return texpr{}, parser.Errorf(call.Args[1].Span(), "the bin size must be positive")
	}
	switch {
	case x.t == DateTime && size.t == Timespan:
		ticks := "(epoch_ns(" + x.sql + ") // 100 + " + ticksAtUnixEpoch + ")"
		return texpr{sql: "make_timestamp_ns((" + ticks + " // " + size.sql + " * " + size.sql + " - " + ticksAtUnixEpoch + ") * 100)", t: DateTime}, nil
	case x.t == Timespan && size.t == Timespan:
		return texpr{sql: "CAST(floor(" + x.sql + " / " + size.sql + ") AS BIGINT) * " + size.sql, t: Timespan}, nil
	case (x.t == Int || x.t == Long) && (size.t == Int || size.t == Long):
		return texpr{sql: "CAST(floor(" + x.sql + " / " + size.sql + ") AS BIGINT) * " + size.sql, t: Long}, nil
	case x.t.numeric() && size.t.numeric():
		r := convert(size, Real).sql
		return texpr{sql: "(floor(" + convert(x, Real).sql + " / " + r + ") * " + r + ")", t: Real}, nil
	}
	return texpr{}, parser.Errorf(call.Span(), "bin() cannot round a %s by a %s", x.t, size.t)
}

func iff(c *compiler, call *parser.Call, args []texpr) (texpr, error) {
	cond, err := c.predicate(call.Args[0], args[0])
	if err != nil {
		return texpr{}, err
	}
	a, b, err := comparable(call, args[1], args[2])
	if err != nil {
		return texpr{}, parser.Errorf(call.Span(), "iff() branches must have one type, not %s and %s", args[1].t, args[2].t)
	}
	return texpr{sql: "(CASE WHEN " + cond + " THEN " + a.sql + " ELSE " + b.sql + " END)", t: a.t}, nil
}

// now is the query's fixed now(), UTC.
func (c *compiler) now() texpr {
	if !c.opts.Now.IsZero() {
		return literal(&parser.Literal{Kind: parser.DateTimeLit, Time: c.opts.Now})
	}
	return texpr{sql: "(now() AT TIME ZONE 'UTC')", t: DateTime}
}

func (c *compiler) call(e *parser.Call, sc *scope) (texpr, error) {
	name := e.Func.Name
	if a, ok := aggregates[name]; ok {
		return c.aggregateCall(e, a, sc)
	}
	if name == "arg_max" || name == "arg_min" {
		return texpr{}, parser.Errorf(e.Func.Span(), "%s() must stand alone among summarize's aggregates: summarize %s(...) by ...", name, name)
	}
	f, ok := functions[name]
	if !ok {
		err := parser.Errorf(e.Func.Span(), "unknown function '%s'", name)
		if kqlFunctions[name] {
			err = parser.Errorf(e.Func.Span(), "the function '%s' is not supported by socq yet", name)
		}
		if s := suggest(name, functionNames()); s != "" {
			return texpr{}, err.WithHint("did you mean '%s'?", s)
		}
		return texpr{}, err
	}
	if n := len(e.Args); n < f.minArgs || n > f.maxArgs {
		return texpr{}, arityError(e, f.minArgs, f.maxArgs)
	}
	args := make([]texpr, len(e.Args))
	for i, a := range e.Args {
		x, err := c.expr(a, sc)
		if err != nil {
			return texpr{}, err
		}
		args[i] = x
	}
	return f.compile(c, e, args)
}

func functionNames() []string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// kqlFunctions are Kusto scalar functions socq does not translate yet: they
// are reported as unsupported rather than unknown.
var kqlFunctions = map[string]bool{
	"bag_keys": true, "case": true, "coalesce": true, "column_ifexists": true,
	"countof": true, "datetime_diff": true, "datetime_add": true, "dayofweek": true,
	"extract": true, "format_datetime": true, "format_timespan": true, "hash": true,
	"indexof": true, "make_datetime": true, "max_of": true, "min_of": true, "pack": true,
	"bag_pack": true, "pack_array": true, "replace_string": true, "round": true,
	"set_has_element": true, "split": true, "startofday": true, "startofweek": true,
	"startofmonth": true, "endofday": true, "strcat_array": true, "substring": true,
	"todecimal": true, "totimespan": true, "trim": true, "array_concat": true,
	"array_slice": true, "array_index_of": true, "parse_url": true, "url_decode": true,
	"base64_decode_tostring": true, "unixtime_seconds_todatetime": true,
	"abs": true, "log": true, "sqrt": true, "pow": true, "getmonth": true, "getyear": true,
	"hourofday": true, "strcat_delim": true, "string_size": true, "gettype": true, "array_sort_asc": true,
}

// suggest returns the candidate closest to name (by edit distance, ignoring
// case), if it is close enough to be a likely typo.
func suggest(name string, candidates []string) string {
	best, bestDist := "", max(len(name)/3, 2)+1
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
