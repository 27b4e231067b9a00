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
		"array_length": simple(Long, "(CASE WHEN "+jsonIs("%[1]s", "ARRAY")+" THEN json_array_length(%[1]s) END)", Dynamic),
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
		"strcat_array":           {minArgs: 2, maxArgs: 2, compile: strcatArray},
		"substring":              {minArgs: 2, maxArgs: 3, compile: substringFunc},
		"trim":                   {minArgs: 2, maxArgs: 2, compile: trimRegex(true, true)},
		"trim_start":             {minArgs: 2, maxArgs: 2, compile: trimRegex(true, false)},
		"trim_end":               {minArgs: 2, maxArgs: 2, compile: trimRegex(false, true)},
		"split":                  {minArgs: 2, maxArgs: 3, compile: splitFunc},
		"replace_string":         {minArgs: 3, maxArgs: 3, compile: replaceString},
		"extract":                {minArgs: 3, maxArgs: 3, compile: extractFunc},
		"extract_all":            {minArgs: 2, maxArgs: 3, compile: extractAllFunc},
		"replace_regex":          {minArgs: 3, maxArgs: 3, compile: replaceRegex},
		"replace":                {minArgs: 3, maxArgs: 3, compile: replaceDeprecated},
		"strcat_delim":           {minArgs: 3, maxArgs: 64, compile: strcatDelim},
		"reverse":                {minArgs: 1, maxArgs: 1, compile: reverseString},
		"hash_sha256":            {minArgs: 1, maxArgs: 1, compile: hashHex("sha256")},
		"hash_md5":               {minArgs: 1, maxArgs: 1, compile: hashHex("md5")},
		"base64_encode_tostring": {minArgs: 1, maxArgs: 1, compile: base64Encode},
		"base64_decode_tostring": {minArgs: 1, maxArgs: 1, compile: base64Decode},
		"strrep":                 {minArgs: 2, maxArgs: 3, compile: strRep},
		"tohex":                  {minArgs: 1, maxArgs: 2, compile: toHex},
		"isnan":                  {minArgs: 1, maxArgs: 1, compile: realTest("isnan")},
		"isinf":                  {minArgs: 1, maxArgs: 1, compile: realTest("isinf")},
		"isfinite":               {minArgs: 1, maxArgs: 1, compile: realTest("isfinite")},
		"extractall":             {minArgs: 2, maxArgs: 3, compile: extractAllFunc},
		"indexof":                {minArgs: 2, maxArgs: 5, compile: indexOfFunc},
		"countof":                {minArgs: 2, maxArgs: 3, compile: countOfFunc},

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
		"set_union":       {minArgs: 2, maxArgs: 64, compile: setUnion},
		"set_intersect":   {minArgs: 2, maxArgs: 64, compile: setIntersect},
		"array_sort_asc":  {minArgs: 1, maxArgs: 2, compile: arraySort(false)},
		"array_sort_desc": {minArgs: 1, maxArgs: 2, compile: arraySort(true)},
		"array_reverse":   {minArgs: 1, maxArgs: 1, compile: arrayReverse},
		"array_sum":       {minArgs: 1, maxArgs: 1, compile: arraySum},
		"bag_merge":       {minArgs: 2, maxArgs: 64, compile: bagMerge},
		"gettype":         {minArgs: 1, maxArgs: 1, compile: getType},

		// Datetimes and timespans.
		"datetime_diff":                    {minArgs: 3, maxArgs: 3, compile: datetimeDiff},
		"datetime_add":                     {minArgs: 3, maxArgs: 3, compile: datetimeAdd},
		"datetime_part":                    {minArgs: 2, maxArgs: 2, compile: datetimePart},
		"getyear":                          datetimePartOf("year"),
		"getmonth":                         datetimePartOf("month"),
		"monthofyear":                      datetimePartOf("month"),
		"week_of_year":                     datetimePartOf("week_of_year"),
		"bin_at":                           {minArgs: 3, maxArgs: 3, naming: nameFromArgument, compile: binAt},
		"datetime_utc_to_local":            {minArgs: 2, maxArgs: 2, compile: zoneShift(true)},
		"datetime_local_to_utc":            {minArgs: 2, maxArgs: 2, compile: zoneShift(false)},
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
		// Empty is null or "": exactly when tostring() gives "" (any other
		// value's text is not empty).
		return "(coalesce(" + toStringSQL(x) + ", '') = '')"
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
	ticks := ticksSQL(datetime)
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
		if s := parser.Suggest(name, functionNames()); s != "" {
			return texpr{}, err.WithHint("did you mean '%s'?", s)
		}
		return texpr{}, err
	}
	if n := len(e.Args); n < f.minArgs || n > f.maxArgs {
		return texpr{}, arityError(e, f.minArgs, f.maxArgs)
	}
	args, err := c.exprs(e.Args, sc)
	if err != nil {
		return texpr{}, err
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
var kqlFunctions = map[string]bool{}

func init() {
	for _, name := range strings.Fields(`
		hash hash_sha1 hash_xxhash64 todecimal toguid
		parse_url parse_urlquery parse_path parse_user_agent parse_xml parse_csv parse_command_line
		url_decode url_encode base64_decode_toarray
		string_size isascii isutf8 translate repeat indexof_regex to_utf8 unicode_codepoints_from_string
		pi rand exp2 exp10 cos sin tan acos asin atan atan2 cot degrees radians gamma loggamma
		binary_and binary_or binary_xor binary_not binary_shift_left binary_shift_right bitset_count_ones
		make_timespan unixtime_microseconds_todatetime unixtime_nanoseconds_todatetime
		zip array_iff array_split array_shift_left array_shift_right array_rotate_left array_rotate_right jaccard_index
		bag_remove_keys bag_set_key bag_has_key treepath extract_json extractjson dynamic_to_json
		ipv4_is_private ipv4_is_in_range ipv4_compare ipv4_is_match format_ipv4 format_ipv4_mask parse_ipv4 parse_ipv6 has_ipv4 has_any_ipv4
		row_number prev next row_cumsum row_rank_dense row_rank_min ingestion_time new_guid current_principal cursor_current estimate_data_size
		count_distinct count_distinctif take_anyif make_list_with_nulls variancep stdevp stdevpif variancepif
		dcount_hll hll hll_merge tdigest tdigest_merge percentile_tdigest percentilew percentilesw buildschema binary_all_and binary_all_or binary_all_xor`) {
		kqlFunctions[name] = true
	}
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
	return "CAST(CASE WHEN " + jsonIs(x, "ARRAY") + " THEN json_extract(" + x + ", '$[*]') END AS JSON[])"
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
