package engine

import (
	"fmt"
	"regexp"
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
		"bin":      {minArgs: 2, maxArgs: 2, naming: nameFromArgument, compile: bin},
		"floor":    {minArgs: 2, maxArgs: 2, naming: nameFromArgument, compile: bin},
		"iff":      {minArgs: 3, maxArgs: 3, compile: iff},
		"iif":      {minArgs: 3, maxArgs: 3, compile: iff},
		"case":     {minArgs: 3, maxArgs: 255, compile: caseFunc},
		"coalesce": {minArgs: 2, maxArgs: 64, compile: coalesceFunc},
		"max_of":   {minArgs: 2, maxArgs: 64, compile: extremeOf("greatest")},
		"min_of":   {minArgs: 2, maxArgs: 64, compile: extremeOf("least")},

		// Strings.
		"strcat_array":   {minArgs: 2, maxArgs: 2, compile: strcatArray},
		"substring":      {minArgs: 2, maxArgs: 3, compile: substringFunc},
		"trim":           {minArgs: 2, maxArgs: 2, compile: trimRegex(true, true)},
		"trim_start":     {minArgs: 2, maxArgs: 2, compile: trimRegex(true, false)},
		"trim_end":       {minArgs: 2, maxArgs: 2, compile: trimRegex(false, true)},
		"split":          {minArgs: 2, maxArgs: 3, compile: splitFunc},
		"replace_string": {minArgs: 3, maxArgs: 3, compile: replaceString},
		"extract":        {minArgs: 3, maxArgs: 3, compile: extractFunc},
		"indexof":        {minArgs: 2, maxArgs: 5, compile: indexOfFunc},
		"countof":        {minArgs: 2, maxArgs: 3, compile: countOfFunc},

		// Dynamic values.
		"bag_keys":        {minArgs: 1, maxArgs: 1, compile: bagKeys},
		"bag_pack":        {minArgs: 2, maxArgs: 128, compile: bagPack},
		"pack":            {minArgs: 2, maxArgs: 128, compile: bagPack},
		"pack_array":      {minArgs: 1, maxArgs: 128, compile: packArray},
		"array_concat":    {minArgs: 1, maxArgs: 64, compile: arrayConcat},
		"set_difference":  {minArgs: 2, maxArgs: 64, compile: setDifference},
		"array_slice":     {minArgs: 3, maxArgs: 3, compile: arraySlice},
		"array_index_of":  {minArgs: 2, maxArgs: 5, compile: arrayIndexOf},
		"set_has_element": {minArgs: 2, maxArgs: 2, compile: setHasElement},

		// Datetimes and timespans.
		"datetime_diff":                    {minArgs: 3, maxArgs: 3, compile: datetimeDiff},
		"datetime_add":                     {minArgs: 3, maxArgs: 3, compile: datetimeAdd},
		"datetime_part":                    {minArgs: 2, maxArgs: 2, compile: datetimePart},
		"getyear":                          datetimePartOf("year"),
		"getmonth":                         datetimePartOf("month"),
		"dayofmonth":                       datetimePartOf("day"),
		"dayofyear":                        datetimePartOf("dayofyear"),
		"hourofday":                        datetimePartOf("hour"),
		"dayofweek":                        {minArgs: 1, maxArgs: 1, compile: dayOfWeek},
		"startofday":                       startOf("day", false),
		"startofweek":                      startOf("week", false),
		"startofmonth":                     startOf("month", false),
		"startofyear":                      startOf("year", false),
		"endofday":                         startOf("day", true),
		"endofweek":                        startOf("week", true),
		"endofmonth":                       startOf("month", true),
		"endofyear":                        startOf("year", true),
		"format_datetime":                  {minArgs: 2, maxArgs: 2, compile: formatDateTime},
		"format_timespan":                  {minArgs: 2, maxArgs: 2, compile: formatTimespan},
		"totimespan":                       {minArgs: 1, maxArgs: 1, naming: nameFromArgument, compile: toTimespan},
		"make_datetime":                    {minArgs: 3, maxArgs: 6, compile: makeDateTime},
		"unixtime_seconds_todatetime":      unixtimeToDateTime(1_000_000_000),
		"unixtime_milliseconds_todatetime": unixtimeToDateTime(1_000_000),

		// Math.
		"round":   {minArgs: 1, maxArgs: 2, compile: roundFunc},
		"abs":     {minArgs: 1, maxArgs: 1, compile: absFunc},
		"ceiling": {minArgs: 1, maxArgs: 1, compile: ceilingFunc},
		"sign":    {minArgs: 1, maxArgs: 1, compile: signFunc},
		"log":     realFunction("CASE WHEN %[1]s > 0 THEN ln(%[1]s) WHEN %[1]s = 0 THEN CAST('-Infinity' AS DOUBLE) END"),
		"log10":   realFunction("CASE WHEN %[1]s > 0 THEN log10(%[1]s) WHEN %[1]s = 0 THEN CAST('-Infinity' AS DOUBLE) END"),
		"log2":    realFunction("CASE WHEN %[1]s > 0 THEN log2(%[1]s) WHEN %[1]s = 0 THEN CAST('-Infinity' AS DOUBLE) END"),
		"sqrt":    realFunction("CASE WHEN %[1]s >= 0 THEN sqrt(%[1]s) END"),
		"exp":     realFunction("exp(%[1]s)"),
		"pow":     {minArgs: 2, maxArgs: 2, compile: powFunc},
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
// binDateTime floors a datetime to a multiple of span ticks since 0001-01-01.
func binDateTime(datetime, span string) string {
	ticks := "(epoch_ns(" + datetime + ") // 100 + " + ticksAtUnixEpoch + ")"
	return "make_timestamp_ns((" + ticks + " // " + span + " * " + span + " - " + ticksAtUnixEpoch + ") * 100)"
}

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
		return texpr{sql: binDateTime(x.sql, size.sql), t: DateTime}, nil
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
	"column_ifexists": true, "hash": true, "todecimal": true, "parse_url": true,
	"url_decode": true, "base64_decode_tostring": true, "strcat_delim": true,
	"string_size": true, "gettype": true, "array_sort_asc": true,
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

// Argument checks. A wrong type is a compile error pointing at the argument,
// never a DuckDB error at run time.

func argError(call *parser.Call, i int, want string, got Type) *parser.Error {
	return parser.Errorf(call.Args[i].Span(), "%s() needs %s here, not %s", call.Func.Name, want, withArticle(got))
}

// withArticle is "a long", "an int".
func withArticle(t Type) string {
	if s := t.String(); strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + t.String()
}

// stringArg is argument i as a string; dynamic values and null convert.
func stringArg(call *parser.Call, args []texpr, i int) (texpr, error) {
	switch x := args[i]; x.t {
	case String:
		return x, nil
	case Dynamic, Null:
		return convert(x, String), nil
	}
	return texpr{}, argError(call, i, "a string", args[i].t).WithHint("convert it with tostring()")
}

// longArg is argument i as a whole number; reals truncate.
func longArg(call *parser.Call, args []texpr, i int) (texpr, error) {
	switch x := args[i]; x.t {
	case Int, Long, Real, Dynamic, Null:
		return convert(x, Long), nil
	}
	return texpr{}, argError(call, i, "a number", args[i].t).WithHint("convert it with tolong()")
}

// realArg is argument i as a real.
func realArg(call *parser.Call, args []texpr, i int) (texpr, error) {
	switch x := args[i]; x.t {
	case Int, Long, Real, Dynamic, Null:
		return convert(x, Real), nil
	}
	return texpr{}, argError(call, i, "a number", args[i].t).WithHint("convert it with toreal()")
}

// dateTimeArg is argument i as a datetime; strings do not convert implicitly.
func dateTimeArg(call *parser.Call, args []texpr, i int) (texpr, error) {
	switch x := args[i]; x.t {
	case DateTime:
		return x, nil
	case Dynamic, Null:
		return convert(x, DateTime), nil
	}
	return texpr{}, argError(call, i, "a datetime", args[i].t).WithHint("convert it with todatetime()")
}

// timespanArg is argument i as a timespan.
func timespanArg(call *parser.Call, args []texpr, i int) (texpr, error) {
	switch x := args[i]; x.t {
	case Timespan:
		return x, nil
	case Dynamic:
		return texpr{sql: dynamicToTimespanSQL(x.sql), t: Timespan}, nil
	case Null:
		return convert(x, Timespan), nil
	}
	return texpr{}, argError(call, i, "a timespan", args[i].t).WithHint("convert it with totimespan()")
}

// dynamicArg is argument i, which must be dynamic (or null).
func dynamicArg(call *parser.Call, args []texpr, i int) (texpr, error) {
	switch x := args[i]; x.t {
	case Dynamic:
		return x, nil
	case Null:
		return convert(x, Dynamic), nil
	}
	return texpr{}, argError(call, i, "a dynamic value", args[i].t).WithHint("make one with dynamic([...]), pack_array() or parse_json()")
}

// literalString is argument i, which must be a string literal, as its text.
func literalString(call *parser.Call, args []texpr, i int, what string) (string, error) {
	if x := args[i]; x.lit == nil || x.lit.Kind != parser.StringLit || x.lit.Null {
		return "", parser.Errorf(call.Args[i].Span(), "%s() needs %s here, written as a string literal", call.Func.Name, what)
	}
	return args[i].lit.Str, nil
}

// regexArg is argument i, a regular expression literal, checked at compile
// time: Kusto and DuckDB both use RE2 syntax, as Go's regexp package does.
func regexArg(call *parser.Call, args []texpr, i int) (*regexp.Regexp, error) {
	s, err := literalString(call, args, i, "a regular expression")
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, parser.Errorf(call.Args[i].Span(), "bad regular expression: %v", err)
	}
	return re, nil
}

// nameArg is argument i, a case-insensitive name from names (datetime_diff's
// 'day', countof's 'regex').
func nameArg(call *parser.Call, args []texpr, i int, what string, names []string) (string, error) {
	s, err := literalString(call, args, i, "a "+what)
	if err != nil {
		return "", err
	}
	for _, n := range names {
		if strings.EqualFold(s, n) {
			return n, nil
		}
	}
	return "", parser.Errorf(call.Args[i].Span(), "%s() does not know the %s '%s'", call.Func.Name, what, s).
		WithHint("use one of: %s", strings.Join(names, ", "))
}

// unify brings the arguments at idx to one type, as Kusto requires of case(),
// coalesce(), max_of() and min_of(): numbers widen to long or real, and null
// and dynamic arguments take the type of the others.
func unify(call *parser.Call, args []texpr, idx []int) ([]texpr, Type, error) {
	target, first := Null, -1
	for _, i := range idx {
		switch t := args[i].t; {
		case t == Null, t == Dynamic, t == target:
		case target == Null:
			target, first = t, i
		case t.numeric() && target.numeric():
			if t == Real || target == Real {
				target = Real
			} else {
				target = Long
			}
		default:
			return nil, Invalid, parser.Errorf(call.Args[i].Span(), "%s() needs arguments of one type: this is %s, but argument %d is %s", call.Func.Name, withArticle(t), first+1, withArticle(args[first].t))
		}
	}
	if target == Null {
		for _, i := range idx {
			if args[i].t == Dynamic {
				target = Dynamic
			}
		}
	}
	out := make([]texpr, len(idx))
	for k, i := range idx {
		out[k] = convert(args[i], target)
	}
	return out, target, nil
}

// bind evaluates body once over the SQL values vals, inside a DuckDB lambda.
// A lambda body sees the enclosing query's columns, and its parameters
// shadow columns of the same name (which can be anything in KQL), so query
// SQL must never be written inside one: the values travel in a one-element
// list of structs, and body may refer only to the refs it is given and to
// parameters of lambdas it makes itself. Struct fields are read with
// struct_extract: DuckDB resolves p.v as column p of a table first.
func bind(vals []string, body func(refs []string) string) string {
	fields := make([]string, len(vals))
	refs := make([]string, len(vals))
	for i, v := range vals {
		fields[i] = fmt.Sprintf("'v%d': %s", i, v)
		refs[i] = fmt.Sprintf("struct_extract(socq_b, 'v%d')", i)
	}
	return "list_transform([{" + strings.Join(fields, ", ") + "}], lambda socq_b: " + body(refs) + ")[1]"
}

// reuse is for SQL that names a value more than once: columns and
// literals are written out again, anything else is computed once by bind.
// body must not make lambdas over the refs (use bind for that).
func reuse(vals []string, body func(refs []string) string) string {
	for _, v := range vals {
		if !simpleSQL.MatchString(v) {
			return bind(vals, body)
		}
	}
	return body(vals)
}

var simpleSQL = regexp.MustCompile(`^("[^"]*"|'[^']*'|-?[0-9]+|CAST\(NULL AS [A-Z_]+\))$`)

// jsonArray is the elements of a dynamic array as a DuckDB list of JSON
// values, or NULL when the value is not an array. The cast keeps the type
// a list when x is a constant null, for which json_extract returns JSON.
func jsonArray(x string) string {
	return "CAST(CASE WHEN json_type(" + x + ") = 'ARRAY' THEN json_extract(" + x + ", '$[*]') END AS JSON[])"
}

// Conditionals and comparisons.

func caseFunc(c *compiler, call *parser.Call, args []texpr) (texpr, error) {
	if len(args)%2 == 0 {
		return texpr{}, parser.Errorf(call.Span(), "case() takes pairs of a predicate and a value, then an else value: an odd number of arguments, not %d", len(args))
	}
	var idx []int
	for i := 1; i < len(args); i += 2 {
		idx = append(idx, i)
	}
	idx = append(idx, len(args)-1)
	vals, t, err := unify(call, args, idx)
	if err != nil {
		return texpr{}, err
	}
	sql := "(CASE"
	for i := 0; i+1 < len(args); i += 2 {
		p, err := c.predicate(call.Args[i], args[i])
		if err != nil {
			return texpr{}, err
		}
		sql += " WHEN " + p + " THEN " + vals[i/2].sql
	}
	return texpr{sql: sql + " ELSE " + vals[len(vals)-1].sql + " END)", t: t}, nil
}

// coalesceFunc returns the first argument that is not null, or for strings
// the first that is not empty.
func coalesceFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	vals, t, err := unify(call, args, allArgs(args))
	if err != nil {
		return texpr{}, err
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = v.sql
	}
	if t != String && t != Dynamic {
		return texpr{sql: "coalesce(" + strings.Join(parts, ", ") + ")", t: t}, nil
	}
	sql := "(CASE"
	for _, v := range vals[:len(vals)-1] {
		cond := "NOT " + isNullSQL(v)
		if t == String {
			cond = v.sql + " <> ''"
		}
		sql += " WHEN " + cond + " THEN " + v.sql
	}
	return texpr{sql: sql + " ELSE " + parts[len(parts)-1] + " END)", t: t}, nil
}

func allArgs(args []texpr) []int {
	idx := make([]int, len(args))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// extremeOf makes max_of and min_of: nulls are ignored, as greatest() and
// least() do.
func extremeOf(sqlFunc string) func(*compiler, *parser.Call, []texpr) (texpr, error) {
	return func(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
		vals, t, err := unify(call, args, allArgs(args))
		if err != nil {
			return texpr{}, err
		}
		if t == Dynamic {
			return texpr{}, parser.Errorf(call.Span(), "%s() cannot order dynamic values", call.Func.Name).
				WithHint("convert them, e.g. with toreal() or tostring()")
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = v.sql
		}
		return texpr{sql: sqlFunc + "(" + strings.Join(parts, ", ") + ")", t: t}, nil
	}
}

// Strings. Positions count characters and start at 0, as in Kusto.

func strcatArray(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	arr, err := dynamicArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	delim, err := stringArg(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	elem := "coalesce(" + toStringSQL(texpr{sql: "socq_e", t: Dynamic}) + ", '')"
	return texpr{sql: "coalesce(array_to_string(list_transform(" + jsonArray(arr.sql) + ", lambda socq_e: " + elem + "), " + delim.sql + "), '')", t: String}, nil
}

// startIndex is a Kusto start position within a string or list of length n:
// a negative one counts from the end; the result is clamped to 0..n.
func startIndex(start, n string) string {
	return "(CASE WHEN " + start + " < 0 THEN greatest(" + n + " + " + start + ", 0) ELSE least(" + start + ", " + n + ") END)"
}

func substringFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	s, err := stringArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	vals := []string{s.sql}
	for i := 1; i < len(args); i++ {
		n, err := longArg(call, args, i)
		if err != nil {
			return texpr{}, err
		}
		vals = append(vals, n.sql)
	}
	return texpr{sql: reuse(vals, func(v []string) string {
		from := startIndex(v[1], "length("+v[0]+")") + " + 1"
		if len(v) == 2 {
			return "coalesce(substring(" + v[0] + ", " + from + "), '')"
		}
		return "coalesce(CASE WHEN " + v[2] + " < 0 THEN '' ELSE substring(" + v[0] + ", " + from + ", least(" + v[2] + ", length(" + v[0] + "))) END, '')"
	}), t: String}, nil
}

// trimRegex makes trim, trim_start and trim_end: they remove the matches
// of a regular expression repeated at the start and/or end.
func trimRegex(start, end bool) func(*compiler, *parser.Call, []texpr) (texpr, error) {
	return func(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
		re, err := regexArg(call, args, 0)
		if err != nil {
			return texpr{}, err
		}
		s, err := stringArg(call, args, 1)
		if err != nil {
			return texpr{}, err
		}
		sql := s.sql
		if start {
			sql = "regexp_replace(" + sql + ", " + QuoteString("^(?:"+re.String()+")+") + ", '')"
		}
		if end {
			sql = "regexp_replace(" + sql + ", " + QuoteString("(?:"+re.String()+")+$") + ", '')"
		}
		return texpr{sql: sql, t: String}, nil
	}
}

// split returns a dynamic array of strings; split("", d) is [""]. With an
// index it returns the one-element array of that part, or [] when there is
// no such part.
func splitFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	s, err := stringArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	delim, err := stringArg(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	parts := reuse([]string{s.sql, delim.sql}, func(v []string) string {
		return "(CASE WHEN " + v[0] + " = '' OR " + v[1] + " = '' THEN [" + v[0] + "] ELSE string_split(" + v[0] + ", " + v[1] + ") END)"
	})
	if len(args) == 2 {
		return texpr{sql: "to_json(" + parts + ")", t: Dynamic}, nil
	}
	index, err := longArg(call, args, 2)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "to_json(" + bind([]string{parts, index.sql}, func(v []string) string {
		return "CASE WHEN " + v[1] + " >= 0 AND " + v[1] + " < len(" + v[0] + ") THEN [" + v[0] + "[least(" + v[1] + ", len(" + v[0] + ")) + 1]] ELSE CAST([] AS VARCHAR[]) END"
	}) + ")", t: Dynamic}, nil
}

// replaceString replaces every (non-overlapping) occurrence of plain text.
func replaceString(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	parts := make([]string, 3)
	for i := range parts {
		x, err := stringArg(call, args, i)
		if err != nil {
			return texpr{}, err
		}
		parts[i] = x.sql
	}
	return texpr{sql: "replace(" + strings.Join(parts, ", ") + ")", t: String}, nil
}

// extract returns a capture group of the first match, or "" (Kusto's null,
// which for a string is "") when there is none.
func extractFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	re, err := regexArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	g := args[1].lit
	if g == nil || g.Null || g.Kind != parser.LongLit && g.Kind != parser.IntLit {
		return texpr{}, parser.Errorf(call.Args[1].Span(), "extract() needs the capture group as a whole-number literal")
	}
	if g.Int < 0 || g.Int > int64(re.NumSubexp()) {
		return texpr{}, parser.Errorf(call.Args[1].Span(), "the regular expression has no capture group %d", g.Int).
			WithHint("0 is the whole match; it has %d group(s)", re.NumSubexp())
	}
	s, err := stringArg(call, args, 2)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: fmt.Sprintf("coalesce(regexp_extract(%s, %s, %d), '')", s.sql, QuoteString(re.String()), g.Int), t: String}, nil
}

// indexOf is indexof(s, lookup [, start [, length [, occurrence]]]): the
// position of lookup, or -1. Both strings may be of any type (Kusto converts
// them). A negative start counts from the end. The examined range is
// length+1 characters from start: that is what reproduces the examples of
// Kusto's documentation (indexof("abcdefg", "cde", 1, 2) is -1 but
// indexof("abcdefgabcdefg", "cde", 1, 10, 2) is 9). A length below -1 or a
// negative occurrence gives null.
func indexOfFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	s, lookup := convert(args[0], String), convert(args[1], String)
	if len(args) == 2 {
		return texpr{sql: "(strpos(" + s.sql + ", " + lookup.sql + ") - 1)", t: Long}, nil
	}
	vals := []string{s.sql, lookup.sql, "0", "-1", "1"}
	for i := 2; i < len(args); i++ {
		n, err := longArg(call, args, i)
		if err != nil {
			return texpr{}, err
		}
		vals[i] = n.sql
	}
	return texpr{sql: bind(vals, func(v []string) string {
		str, look, start, length, occurrence := v[0], v[1], startIndex(v[2], "length("+v[0]+")"), v[3], v[4]
		region := "(CASE WHEN " + length + " = -1 THEN substring(" + str + ", " + start + " + 1) ELSE substring(" + str + ", " + start + " + 1, least(" + length + ", length(" + str + ")) + 1) END)"
		var found string
		if len(args) < 5 {
			found = "nullif(strpos(" + region + ", " + look + "), 0) - 1"
		} else { // every (overlapping) match, then the one asked for
			found = "list_filter(range(0, greatest(length(" + region + ") - length(" + look + ") + 1, 0)), lambda socq_i: substring(" + region + ", socq_i + 1, length(" + look + ")) = " + look + ")[" + occurrence + "]"
		}
		return "(CASE WHEN " + length + " < -1 OR " + occurrence + " < 0 THEN NULL ELSE coalesce(" + found + " + " + start + ", -1) END)"
	}), t: Long}, nil
}

// countOf counts plain matches, which may overlap, or with kind "regex"
// the (non-overlapping) matches of a regular expression.
func countOfFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	s, err := stringArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	kind := "normal"
	if len(args) == 3 {
		if kind, err = nameArg(call, args, 2, "kind", []string{"normal", "regex"}); err != nil {
			return texpr{}, err
		}
	}
	if kind == "regex" {
		re, err := regexArg(call, args, 1)
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: "len(regexp_extract_all(" + s.sql + ", " + QuoteString(re.String()) + "))", t: Long}, nil
	}
	search, err := stringArg(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: bind([]string{s.sql, search.sql}, func(v []string) string {
		return "CASE WHEN " + v[1] + " = '' THEN 0 ELSE len(list_filter(range(0, greatest(length(" + v[0] + ") - length(" + v[1] + ") + 1, 0)), lambda socq_i: substring(" + v[0] + ", socq_i + 1, length(" + v[1] + ")) = " + v[1] + ")) END"
	}), t: Long}, nil
}

// Dynamic values.

func bagKeys(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	bag, err := dynamicArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "(CASE WHEN json_type(" + bag.sql + ") = 'OBJECT' THEN to_json(json_keys(" + bag.sql + ")) END)", t: Dynamic}, nil
}

// bagPack is bag_pack(key1, value1, ...): values of any type become JSON,
// datetimes and timespans as Kusto's strings. A key given twice keeps its
// last value.
func bagPack(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	if len(args)%2 != 0 {
		return texpr{}, parser.Errorf(call.Span(), "%s() takes keys and values in pairs: an even number of arguments, not %d", call.Func.Name, len(args))
	}
	var parts []string
	last := map[string]int{}
	for i := 0; i < len(args); i += 2 {
		if k := args[i].lit; k != nil && k.Kind == parser.StringLit {
			last[k.Str] = i
		}
	}
	for i := 0; i < len(args); i += 2 {
		key, err := stringArg(call, args, i)
		if err != nil {
			return texpr{}, err
		}
		if k := args[i].lit; k != nil && k.Kind == parser.StringLit && last[k.Str] != i {
			continue
		}
		parts = append(parts, key.sql, convert(args[i+1], Dynamic).sql)
	}
	return texpr{sql: "json_object(" + strings.Join(parts, ", ") + ")", t: Dynamic}, nil
}

func packArray(_ *compiler, _ *parser.Call, args []texpr) (texpr, error) {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = convert(a, Dynamic).sql
	}
	return texpr{sql: "json_array(" + strings.Join(parts, ", ") + ")", t: Dynamic}, nil
}

// arrayLists checks that the arguments are dynamic and returns a condition
// that all are arrays and their elements as lists.
func arrayLists(call *parser.Call, args []texpr) (cond string, lists []string, err error) {
	var conds []string
	for i := range args {
		x, err := dynamicArg(call, args, i)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, "json_type("+x.sql+") = 'ARRAY'")
		lists = append(lists, "CAST(json_extract("+x.sql+", '$[*]') AS JSON[])")
	}
	return strings.Join(conds, " AND "), lists, nil
}

// arrayConcat is null unless every argument is an array.
func arrayConcat(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	cond, lists, err := arrayLists(call, args)
	if err != nil {
		return texpr{}, err
	}
	list := lists[0]
	if len(lists) > 1 {
		list = "list_concat(" + strings.Join(lists, ", ") + ")"
	}
	return texpr{sql: "(CASE WHEN " + cond + " THEN to_json(" + list + ") END)", t: Dynamic}, nil
}

// setDifference is the distinct elements of the first array that are in
// none of the others, in their first order; null unless all are arrays.
func setDifference(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	cond, lists, err := arrayLists(call, args)
	if err != nil {
		return texpr{}, err
	}
	others := lists[1]
	if len(lists) > 2 {
		others = "list_concat(" + strings.Join(lists[1:], ", ") + ")"
	}
	diff := bind([]string{lists[0], others}, func(v []string) string {
		return "list_filter(" + v[0] + ", lambda socq_e, socq_i: list_position(" + v[0] + ", socq_e) = socq_i AND NOT list_contains(" + v[1] + ", socq_e))"
	})
	return texpr{sql: "(CASE WHEN " + cond + " THEN to_json(" + diff + ") END)", t: Dynamic}, nil
}

// arraySlice is the elements from start to end, both inclusive; negative
// positions count from the end and positions outside the array are ignored.
func arraySlice(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	arr, err := dynamicArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	start, err := longArg(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	end, err := longArg(call, args, 2)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "to_json(" + bind([]string{jsonArray(arr.sql), start.sql, end.sql}, func(v []string) string {
		n := "len(" + v[0] + ")"
		from := startIndex(v[1], n)
		to := "(CASE WHEN " + v[2] + " < 0 THEN " + n + " + " + v[2] + " ELSE least(" + v[2] + ", " + n + " - 1) END)"
		return "CASE WHEN " + v[0] + " IS NULL OR " + v[1] + " IS NULL OR " + v[2] + " IS NULL THEN NULL WHEN " + from + " > " + to +
			" THEN CAST([] AS JSON[]) ELSE list_slice(" + v[0] + ", " + from + " + 1, " + to + " + 1) END"
	}) + ")", t: Dynamic}, nil
}

// lookupValue is the value array_index_of and set_has_element look for.
func lookupValue(call *parser.Call, args []texpr, i int) (texpr, error) {
	switch x := args[i]; x.t {
	case Int:
		return convert(x, Long), nil
	case Long, Real, String, Bool, DateTime, Timespan:
		return x, nil
	case Dynamic, Null:
		return texpr{sql: "CAST(" + x.sql + " AS VARCHAR)", t: Dynamic}, nil
	}
	return texpr{}, argError(call, i, "a scalar value", args[i].t)
}

// elementEquals compares the JSON element e with the value v of type t (a
// dynamic v as JSON text). Numbers, strings and bools match only elements of
// their own JSON type; datetimes and timespans match strings that convert.
func elementEquals(e, v string, t Type) string {
	switch t {
	case String:
		return "(CASE json_type(" + e + ") WHEN 'VARCHAR' THEN " + jsonText(e) + " = " + v + " ELSE FALSE END)"
	case Long:
		return "(CASE json_type(" + e + ") WHEN 'BIGINT' THEN CAST(" + e + " AS BIGINT) = " + v + " WHEN 'UBIGINT' THEN TRY_CAST(" + e + " AS BIGINT) = " + v +
			" WHEN 'DOUBLE' THEN CAST(" + e + " AS DOUBLE) = CAST(" + v + " AS DOUBLE) ELSE FALSE END)"
	case Real:
		return "(CASE WHEN json_type(" + e + ") IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(" + e + " AS DOUBLE) = " + v + " ELSE FALSE END)"
	case Bool:
		return "(CASE json_type(" + e + ") WHEN 'BOOLEAN' THEN CAST(" + e + " AS BOOLEAN) = " + v + " ELSE FALSE END)"
	case DateTime:
		return "(" + convert(texpr{sql: e, t: Dynamic}, DateTime).sql + " = " + v + ")"
	case Timespan:
		return "(" + dynamicToTimespanSQL(e) + " = " + v + ")"
	}
	return "(CAST(" + e + " AS VARCHAR) = " + v + ")"
}

// arrayIndexOf is array_index_of(arr, value [, start [, length [,
// occurrence]]]): the position of value, or -1; null when arr is not an
// array, length is below -1 or occurrence is negative.
func arrayIndexOf(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	arr, err := dynamicArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	value, err := lookupValue(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	vals := []string{jsonArray(arr.sql), value.sql, "0", "-1", "1"}
	for i := 2; i < len(args); i++ {
		n, err := longArg(call, args, i)
		if err != nil {
			return texpr{}, err
		}
		vals[i] = n.sql
	}
	return texpr{sql: bind(vals, func(v []string) string {
		list, look, length, occurrence := v[0], v[1], v[3], v[4]
		n := "len(" + list + ")"
		start := startIndex(v[2], n)
		end := "(CASE WHEN " + length + " = -1 THEN " + n + " ELSE least(" + start + " + least(" + length + ", " + n + "), " + n + ") END)"
		matches := "list_filter(list_transform(list_slice(" + list + ", " + start + " + 1, " + end + "), lambda socq_e, socq_i: CASE WHEN " +
			elementEquals("socq_e", look, value.t) + " THEN socq_i END), lambda socq_i: socq_i IS NOT NULL)"
		return "(CASE WHEN " + list + " IS NULL OR " + length + " < -1 OR " + occurrence + " < 0 THEN NULL ELSE coalesce(" + matches + "[" + occurrence + "] - 1 + " + start + ", -1) END)"
	}), t: Long}, nil
}

// setHasElement is true when the array has the value; false for non-arrays.
func setHasElement(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	arr, err := dynamicArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	value, err := lookupValue(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: bind([]string{jsonArray(arr.sql), value.sql}, func(v []string) string {
		return "coalesce(list_bool_or(list_transform(" + v[0] + ", lambda socq_e: " + elementEquals("socq_e", v[1], value.t) + ")), FALSE)"
	}), t: Bool}, nil
}

// Datetimes and timespans. Calendar arithmetic is done on Kusto's ticks
// (100 ns since 0001-01-01, a Monday), which are positive for every datetime
// DuckDB can hold, so integer division rounds down; results that fall
// outside the datetime range are null.

const (
	ticksPerMicrosecond = 10
	ticksPerMillisecond = 10_000
	ticksPerSecond      = 10_000_000
	ticksPerMinute      = 60 * ticksPerSecond
	ticksPerHour        = 60 * ticksPerMinute
	ticksPerDay         = 24 * ticksPerHour
	ticksPerWeek        = 7 * ticksPerDay
)

// ticksSQL is a datetime as ticks since 0001-01-01.
func ticksSQL(dt string) string { return "(epoch_ns(" + dt + ") // 100 + " + ticksAtUnixEpoch + ")" }

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

// realFunction makes a one-argument function of a real, given as a template.
func realFunction(template string) function {
	return function{minArgs: 1, maxArgs: 1, compile: func(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
		x, err := realArg(call, args, 0)
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: reuse([]string{x.sql}, func(v []string) string { return "(" + fmt.Sprintf(template, v[0]) + ")" }), t: Real}, nil
	}}
}

// numberArg is argument i as a long (for whole numbers) or a real.
func numberArg(call *parser.Call, args []texpr, i int) (texpr, error) {
	switch x := args[i]; x.t {
	case Int, Long:
		return convert(x, Long), nil
	}
	return realArg(call, args, i)
}

// round rounds half away from zero to a number of decimal digits (negative
// digits round to tens, hundreds, ...); whole numbers stay whole.
func roundFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	x, err := numberArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	digits := "0"
	if len(args) == 2 {
		d, err := longArg(call, args, 1)
		if err != nil {
			return texpr{}, err
		}
		digits = "TRY_CAST(" + d.sql + " AS INTEGER)"
	}
	return texpr{sql: "try(round(" + x.sql + ", " + digits + "))", t: x.t}, nil
}

func absFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	x := args[0]
	if x.t != Timespan {
		var err error
		if x, err = numberArg(call, args, 0); err != nil {
			return texpr{}, err
		}
	}
	return texpr{sql: "try(abs(" + x.sql + "))", t: x.t}, nil
}

func ceilingFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	x, err := numberArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	if x.t == Long {
		return x, nil
	}
	return texpr{sql: "ceil(" + x.sql + ")", t: Real}, nil
}

func signFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	x, err := numberArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "CAST(sign(" + x.sql + ") AS " + x.t.SQLType() + ")", t: x.t}, nil
}

func powFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	base, err := realArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	exponent, err := realArg(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "pow(" + base.sql + ", " + exponent.sql + ")", t: Real}, nil
}
