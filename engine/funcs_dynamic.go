package engine

import (
	"strings"

	"github.com/socq/socq/parser"
)

// The KQL dynamic functions: bags and arrays.

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

// arrayAndValue reads the (array, value) arguments of the lookups.
func arrayAndValue(call *parser.Call, args []texpr) (arr, value texpr, err error) {
	if arr, err = dynamicArg(call, args, 0); err != nil {
		return
	}
	value, err = lookupValue(call, args, 1)
	return
}

// arrayIndexOf is array_index_of(arr, value [, start [, length [,
// occurrence]]]): the position of value, or -1; null when arr is not an
// array, length is below -1 or occurrence is negative.
func arrayIndexOf(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	arr, value, err := arrayAndValue(call, args)
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
	arr, value, err := arrayAndValue(call, args)
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

// arraySort is array_sort_asc or array_sort_desc of one array: numbers by
// value, then strings, then other values by their JSON text; nulls last
// unless the second argument is false. Null unless the argument is an array.
func arraySort(desc bool) func(*compiler, *parser.Call, []texpr) (texpr, error) {
	return func(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
		arr, err := dynamicArg(call, args, 0)
		if err != nil {
			return texpr{}, err
		}
		nullsLast := "TRUE"
		if len(args) == 2 {
			if args[1].t != Bool {
				return texpr{}, argError(call, 1, "a bool (nulls_last)", args[1].t)
			}
			nullsLast = args[1].sql
		}
		order, nulls := "'ASC'", "'NULLS LAST'"
		if desc {
			order = "'DESC'"
		}
		return texpr{sql: bind([]string{arr.sql, nullsLast}, func(v []string) string {
			keyed := "list_transform(" + jsonArray(v[0]) + ", lambda socq_e: struct_pack(" +
				"n := json_type(socq_e) = 'NULL', " +
				"k := CASE json_type(socq_e) WHEN 'BIGINT' THEN 0 WHEN 'UBIGINT' THEN 0 WHEN 'DOUBLE' THEN 0 WHEN 'VARCHAR' THEN 1 ELSE 2 END, " +
				"d := TRY_CAST(socq_e AS DOUBLE), s := CAST(socq_e AS VARCHAR), v := socq_e))"
			sorted := "list_sort(" + keyed + ", " + order + ", " + nulls + ")"
			// Nulls go last (or first) whatever the direction: sort the
			// non-null elements, then put the nulls where asked.
			values := "list_transform(list_filter(" + sorted + ", lambda socq_s: NOT socq_s.n), lambda socq_s: socq_s.v)"
			nullItems := "list_transform(list_filter(" + keyed + ", lambda socq_s: socq_s.n), lambda socq_s: socq_s.v)"
			return "CASE WHEN json_type(" + v[0] + ") = 'ARRAY' THEN to_json(CASE WHEN " + v[1] + " IS NOT FALSE THEN list_concat(" + values + ", " + nullItems + ") ELSE list_concat(" + nullItems + ", " + values + ") END) END"
		}), t: Dynamic}, nil
	}
}

// setUnion is the distinct elements of all the arrays, in first-seen order;
// null unless all are arrays.
func setUnion(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	cond, lists, err := arrayLists(call, args)
	if err != nil {
		return texpr{}, err
	}
	all := lists[0]
	if len(lists) > 1 {
		all = "list_concat(" + strings.Join(lists, ", ") + ")"
	}
	union := bind([]string{all}, func(v []string) string {
		return "list_filter(" + v[0] + ", lambda socq_e, socq_i: list_position(" + v[0] + ", socq_e) = socq_i)"
	})
	return texpr{sql: "(CASE WHEN " + cond + " THEN to_json(" + union + ") END)", t: Dynamic}, nil
}

// setIntersect is the distinct elements of the first array found in every
// other one, in first-seen order; null unless all are arrays.
func setIntersect(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	cond, lists, err := arrayLists(call, args)
	if err != nil {
		return texpr{}, err
	}
	inter := bind(lists, func(v []string) string {
		keep := "list_position(" + v[0] + ", socq_e) = socq_i"
		for _, other := range v[1:] {
			keep += " AND list_contains(" + other + ", socq_e)"
		}
		return "list_filter(" + v[0] + ", lambda socq_e, socq_i: " + keep + ")"
	})
	return texpr{sql: "(CASE WHEN " + cond + " THEN to_json(" + inter + ") END)", t: Dynamic}, nil
}

// bagMerge merges property bags; a key in several bags keeps the value of
// the leftmost (Kusto docs, bag-merge-function). Arguments that are not bags
// are ignored.
func bagMerge(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	merged := "CAST('{}' AS JSON)"
	for i := len(args) - 1; i >= 0; i-- {
		b, err := dynamicArg(call, args, i)
		if err != nil {
			return texpr{}, err
		}
		merged = "json_merge_patch(" + merged + ", CASE WHEN json_type(" + b.sql + ") = 'OBJECT' THEN " + b.sql + " ELSE CAST('{}' AS JSON) END)"
	}
	return texpr{sql: merged, t: Dynamic}, nil
}

// arrayReverse is the array's elements in reverse order; null for a non-array.
func arrayReverse(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	arr, err := dynamicArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "(CASE WHEN json_type(" + arr.sql + ") = 'ARRAY' THEN to_json(list_reverse(" + jsonArray(arr.sql) + ")) END)", t: Dynamic}, nil
}

// arraySum is the sum of an array's numbers as a real; null for a
// non-array or an array with a non-number.
func arraySum(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	arr, err := dynamicArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: bind([]string{jsonArray(arr.sql)}, func(v []string) string {
		return "CASE WHEN list_bool_and(list_transform(" + v[0] + ", lambda socq_e: json_type(socq_e) IN ('BIGINT', 'UBIGINT', 'DOUBLE'))) IS NOT FALSE THEN CAST(list_sum(list_transform(" + v[0] + ", lambda socq_e: CAST(socq_e AS DOUBLE))) AS DOUBLE) END"
	}), t: Real}, nil
}

// getType names the type of a value as Kusto's gettype() does; a dynamic
// value is named by what it holds: array, dictionary, string (datetime when
// it holds an ISO 8601 datetime, which Kusto parses as one), int or long by
// size (gettype(parse_json('1')) is int in Kusto's docs), real, bool, null.
func getType(_ *compiler, _ *parser.Call, args []texpr) (texpr, error) {
	x := args[0]
	if x.t == Dynamic {
		return texpr{sql: reuse([]string{x.sql}, func(v []string) string {
			return "(CASE json_type(" + v[0] + ") WHEN 'ARRAY' THEN 'array' WHEN 'OBJECT' THEN 'dictionary' " +
				"WHEN 'VARCHAR' THEN CASE WHEN regexp_full_match(" + jsonText(v[0]) + ", " + QuoteString(isoDateTime) + ") THEN 'datetime' ELSE 'string' END " +
				"WHEN 'BIGINT' THEN CASE WHEN TRY_CAST(" + v[0] + " AS BIGINT) BETWEEN -2147483648 AND 2147483647 THEN 'int' ELSE 'long' END " +
				"WHEN 'UBIGINT' THEN CASE WHEN TRY_CAST(" + v[0] + " AS BIGINT) BETWEEN -2147483648 AND 2147483647 THEN 'int' ELSE 'long' END " +
				"WHEN 'DOUBLE' THEN 'real' WHEN 'BOOLEAN' THEN 'bool' ELSE 'null' END)"
		}), t: String}, nil
	}
	name := x.t.String()
	if x.t == Null {
		name = "null"
	}
	return texpr{sql: QuoteString(name), t: String}, nil
}

// packAll is pack_all([ignore_null_empty]): a property bag of the row's
// columns, name to value; with true, null and empty values are left out.
func (c *compiler) packAll(e *parser.Call, sc *scope) (texpr, error) {
	if len(e.Args) > 1 {
		return texpr{}, arityError(e, 0, 1)
	}
	skipEmpty := false
	if len(e.Args) == 1 {
		lit, ok := unparen(e.Args[0]).(*parser.Literal)
		if !ok || lit.Kind != parser.BoolLit {
			return texpr{}, parser.Errorf(e.Args[0].Span(), "pack_all() takes true or false here")
		}
		skipEmpty = lit.Bool
	}
	if len(sc.cols) == 0 {
		return texpr{sql: "CAST('{}' AS JSON)", t: Dynamic}, nil
	}
	if !skipEmpty {
		var pairs []string
		for _, col := range sc.cols {
			pairs = append(pairs, QuoteString(col.Name), convert(texpr{sql: QuoteIdent(col.sql), t: col.Type}, Dynamic).sql)
		}
		return texpr{sql: "json_object(" + strings.Join(pairs, ", ") + ")", t: Dynamic}, nil
	}
	var parts []string
	for _, col := range sc.cols {
		v := convert(texpr{sql: QuoteIdent(col.sql), t: col.Type}, Dynamic).sql
		one := "json_object(" + QuoteString(col.Name) + ", " + v + ")"
		parts = append(parts, "CASE WHEN "+isEmptySQL(texpr{sql: QuoteIdent(col.sql), t: col.Type})+" THEN CAST('{}' AS JSON) ELSE "+one+" END")
	}
	merged := parts[0]
	for _, p := range parts[1:] {
		merged = "json_merge_patch(" + merged + ", " + p + ")"
	}
	return texpr{sql: merged, t: Dynamic}, nil
}
