package engine

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/socq/socq/parser"
)

// The KQL string functions: substring, trim, split, replace_string,
// extract, extract_all, indexof, countof, strcat_array.

// strcatArray joins an array's elements, as text, with a delimiter.
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

// extractAll is extract_all(regex, [captureGroups,] source): every match of
// regex in source, as an array of the one selected group's values, or an
// array of arrays when several groups are selected (all of the regex's
// groups when captureGroups is left out); null when nothing matches. The
// regex needs at least one capture group; captureGroups is a dynamic array
// literal of group numbers (1 and up) or names.
func extractAllFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	re, err := regexArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	if re.NumSubexp() == 0 {
		return texpr{}, parser.Errorf(call.Args[0].Span(), "extract_all() needs a regular expression with a capture group").
			WithHint("put the part to extract in parentheses: @\"(\\d+)\"")
	}
	var groups []int
	if len(args) == 3 {
		if groups, err = captureGroups(call, args[1], re); err != nil {
			return texpr{}, err
		}
	} else {
		for g := 1; g <= re.NumSubexp(); g++ {
			groups = append(groups, g)
		}
	}
	s, err := stringArg(call, args, len(args)-1)
	if err != nil {
		return texpr{}, err
	}
	pattern := QuoteString(re.String())
	return texpr{sql: bind([]string{s.sql}, func(v []string) string {
		lists := make([]string, len(groups))
		for i, g := range groups {
			lists[i] = fmt.Sprintf("regexp_extract_all(%s, %s, %d)", v[0], pattern, g)
		}
		all := lists[0]
		if len(groups) > 1 {
			items := make([]string, len(lists))
			for i, l := range lists {
				items[i] = l + "[socq_i]"
			}
			all = "list_transform(range(1, len(" + lists[0] + ") + 1), lambda socq_i: [" + strings.Join(items, ", ") + "])"
		}
		return "CASE WHEN len(" + lists[0] + ") > 0 THEN to_json(" + all + ") END"
	}), t: Dynamic}, nil
}

// captureGroups reads extract_all's captureGroups: a dynamic array literal
// of group numbers or group names.
func captureGroups(call *parser.Call, arg texpr, re *regexp.Regexp) ([]int, error) {
	at := call.Args[1].Span()
	if arg.lit == nil || arg.lit.Kind != parser.DynamicLit || arg.lit.Null {
		return nil, parser.Errorf(at, "extract_all() needs the capture groups as a dynamic array literal, such as dynamic([1, 3])")
	}
	var items []any
	if err := json.Unmarshal([]byte(arg.lit.Str), &items); err != nil || len(items) == 0 {
		return nil, parser.Errorf(at, "extract_all() needs the capture groups as a non-empty dynamic array")
	}
	var groups []int
	for _, it := range items {
		switch v := it.(type) {
		case float64:
			if v != float64(int(v)) || v < 1 || int(v) > re.NumSubexp() {
				return nil, parser.Errorf(at, "the regular expression has no capture group %v", v).WithHint("its groups are numbered 1 to %d", re.NumSubexp())
			}
			groups = append(groups, int(v))
		case string:
			g := re.SubexpIndex(v)
			if g < 0 {
				return nil, parser.Errorf(at, "the regular expression has no capture group named '%s'", v)
			}
			groups = append(groups, g)
		default:
			return nil, parser.Errorf(at, "extract_all()'s capture groups are numbers or names, not %s", strings.TrimSpace(fmt.Sprint(it)))
		}
	}
	return groups, nil
}

// replaceRegex is replace_regex(source, regex, rewrite): every match
// replaced; \1 … \9 in rewrite stand for capture groups, as in Kusto.
func replaceRegex(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	re, err := regexArg(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	s, err := stringArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	rewrite, err := stringArg(call, args, 2)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "regexp_replace(" + s.sql + ", " + QuoteString(re.String()) + ", " + rewrite.sql + ", 'g')", t: String}, nil
}

// replaceDeprecated is replace(regex, rewrite, source), the older name of
// replace_regex with the source last.
func replaceDeprecated(c *compiler, call *parser.Call, args []texpr) (texpr, error) {
	reordered := &parser.Call{At: call.At, Func: call.Func, Args: []parser.Expr{call.Args[2], call.Args[0], call.Args[1]}}
	return replaceRegex(c, reordered, []texpr{args[2], args[0], args[1]})
}

// strcatDelim is strcat_delim(delimiter, a, b, …): the arguments as
// strings, joined by the delimiter.
func strcatDelim(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	delim := convert(args[0], String).sql
	parts := make([]string, len(args)-1)
	for i, a := range args[1:] {
		parts[i] = convert(a, String).sql
	}
	return texpr{sql: "(" + strings.Join(parts, " || "+delim+" || ") + ")", t: String}, nil
}

// reverseString is reverse(s): the characters of s (as a string) reversed.
func reverseString(_ *compiler, _ *parser.Call, args []texpr) (texpr, error) {
	return texpr{sql: "reverse(" + convert(args[0], String).sql + ")", t: String}, nil
}

// hashHex is hash_sha256 or hash_md5: the lowercase hex digest of the
// value's text (UTF-8).
func hashHex(fn string) func(*compiler, *parser.Call, []texpr) (texpr, error) {
	return func(_ *compiler, _ *parser.Call, args []texpr) (texpr, error) {
		return texpr{sql: fn + "(" + convert(args[0], String).sql + ")", t: String}, nil
	}
}

// base64Encode is base64_encode_tostring(s): s's UTF-8 bytes in base64.
func base64Encode(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	s, err := stringArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "to_base64(encode(" + s.sql + "))", t: String}, nil
}

// base64Decode is base64_decode_tostring(s): the UTF-8 text that s
// encodes; "" when s is not base64 or not UTF-8 text.
func base64Decode(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	s, err := stringArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "coalesce(try(decode(from_base64(" + s.sql + "))), '')", t: String}, nil
}

// strRep is strrep(value, multiplier [, delimiter]): value (as text)
// repeated, joined by the delimiter; a multiplier below 1 gives "".
func strRep(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	s := convert(args[0], String)
	n, err := longArg(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	if len(args) == 2 {
		return texpr{sql: "coalesce(repeat(" + s.sql + ", greatest(" + n.sql + ", 0)), '')", t: String}, nil
	}
	delim := convert(args[2], String)
	return texpr{sql: bind([]string{s.sql, n.sql, delim.sql}, func(v []string) string {
		return "CASE WHEN " + v[1] + " >= 1 THEN substr(repeat(" + v[0] + " || " + v[2] + ", " + v[1] + "), 1, " +
			v[1] + " * length(" + v[0] + ") + (" + v[1] + " - 1) * length(" + v[2] + ")) ELSE '' END"
	}), t: String}, nil
}
