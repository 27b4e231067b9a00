package engine

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/socq/socq/parser"
)

// texpr is a compiled scalar expression: SQL text and its KQL type.
// lit is set when the expression is a literal, for constant folding.
type texpr struct {
	sql string
	t   Type
	lit *parser.Literal
	// path is set when sql is json_extract(path.base, path.path) with a
	// constant path, so a conversion can extract in one call (see
	// toStringSQL). Any new texpr built from this one leaves it unset.
	path *jsonPath
}

// jsonPath is a dynamic value read at a constant JSONPath of another.
type jsonPath struct{ base, path string }

// exprs compiles each of list over sc, in order.
func (c *compiler) exprs(list []parser.Expr, sc *scope) ([]texpr, error) {
	out := make([]texpr, len(list))
	for i, e := range list {
		x, err := c.expr(e, sc)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func (c *compiler) expr(e parser.Expr, sc *scope) (texpr, error) {
	switch e := e.(type) {
	case *parser.Ident:
		if col, ok := sc.lookup(e.Name); ok {
			if c.aggregating && !c.inAggregate {
				return texpr{}, parser.Errorf(e.Span(), "'%s' is a column: in summarize it belongs inside an aggregation function, or after by", e.Name).
					WithHint("e.g. summarize max(%s) or summarize ... by %s", e.Name, e.Name)
			}
			return texpr{sql: QuoteIdent(col.sql), t: col.Type}, nil
		}
		if x, ok := c.scalars[e.Name]; ok {
			return x, nil
		}
		if c.isTable(e.Name) {
			return texpr{}, parser.Errorf(e.Span(), "'%s' is a table, not a value", e.Name)
		}
		return texpr{}, unknownColumn(e, sc)
	case *parser.Literal:
		if e.Kind == parser.DateTimeLit && !e.Null && (e.Time.Before(minDateTime) || e.Time.After(maxDateTime)) {
			return texpr{}, parser.Errorf(e.Span(), "datetime %s is outside the years socq can hold (1678 to 2261)", e.Time.Format("2006-01-02"))
		}
		return literal(e), nil
	case *parser.Paren:
		x, err := c.expr(e.X, sc)
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: "(" + x.sql + ")", t: x.t, lit: x.lit}, nil
	case *parser.Unary:
		return c.unary(e, sc)
	case *parser.Binary:
		return c.binary(e, sc)
	case *parser.In:
		return c.in(e, sc)
	case *parser.Between:
		return c.between(e, sc)
	case *parser.Call:
		for _, n := range e.ArgNames {
			if n != nil {
				return texpr{}, parser.Errorf(n.Span(), "%s() takes no named arguments; only arg_max() and arg_min() name the columns they return", e.Func.Name)
			}
		}
		if e.Func.Name == "column_ifexists" {
			return c.columnIfExists(e, sc)
		}
		if e.Func.Name == "pack_all" {
			return c.packAll(e, sc)
		}
		if w, ok := windowFunctions[e.Func.Name]; ok {
			return c.windowCall(e, w, sc)
		}

		if f, ok := c.funcs[e.Func.Name]; ok {
			return c.callUser(e, f, sc)
		}
		return c.call(e, sc)
	case *parser.ToScalar:
		return c.toScalar(e)
	case *parser.Member, *parser.Index:
		return c.dynamicPath(e, sc)
	case *parser.Star:
		return texpr{}, parser.Errorf(e.Span(), "'*' stands for all columns only in arg_max() and arg_min()")
	}
	return texpr{}, parser.Errorf(e.Span(), "unsupported expression %s", e)
}

func unknownColumn(id *parser.Ident, sc *scope) *parser.Error {
	err := parser.Errorf(id.Span(), "unknown column '%s'", id.Name)
	names := make([]string, len(sc.cols))
	for i, c := range sc.cols {
		names[i] = c.Name
	}
	if s := parser.Suggest(id.Name, names); s != "" {
		return err.WithHint("did you mean '%s'?", s)
	}
	return err
}

// Datetimes are TIMESTAMP_NS: 100 ns ticks, but only within these bounds.
var (
	minDateTime = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDateTime = time.Date(2261, 12, 31, 23, 59, 59, 0, time.UTC)
)

// literal compiles a constant. Strings go through QuoteString, the audited
// quoting function; nothing else from the query text reaches SQL as text.
func literal(l *parser.Literal) texpr {
	t := map[parser.LiteralKind]Type{
		parser.StringLit: String, parser.LongLit: Long, parser.IntLit: Int, parser.RealLit: Real,
		parser.BoolLit: Bool, parser.DateTimeLit: DateTime, parser.TimespanLit: Timespan, parser.DynamicLit: Dynamic,
	}[l.Kind]
	x := texpr{t: t, lit: l}
	if l.Null {
		x.sql = "CAST(NULL AS " + t.SQLType() + ")"
		return x
	}
	switch l.Kind {
	case parser.StringLit:
		x.sql = QuoteString(l.Str)
	case parser.LongLit, parser.IntLit:
		x.sql = strconv.FormatInt(l.Int, 10)
		if l.Int > math.MaxInt32 || l.Int < math.MinInt32 {
			x.sql = "CAST(" + x.sql + " AS BIGINT)"
		}
	case parser.RealLit:
		x.sql = realSQL(l.Real)
	case parser.BoolLit:
		x.sql = strings.ToUpper(strconv.FormatBool(l.Bool))
	case parser.DateTimeLit:
		x.sql = "TIMESTAMP_NS '" + l.Time.UTC().Format("2006-01-02 15:04:05.9999999") + "'"
	case parser.TimespanLit:
		x.sql = strconv.FormatInt(int64(l.Duration/100), 10)
	case parser.DynamicLit:
		x.sql = "CAST(" + QuoteString(l.Str) + " AS JSON)"
	}
	return x
}

func realSQL(f float64) string {
	switch {
	case math.IsNaN(f):
		return "CAST('NaN' AS DOUBLE)"
	case math.IsInf(f, 1):
		return "CAST('Infinity' AS DOUBLE)"
	case math.IsInf(f, -1):
		return "CAST('-Infinity' AS DOUBLE)"
	}
	return "CAST(" + strconv.FormatFloat(f, 'g', -1, 64) + " AS DOUBLE)"
}

func (c *compiler) unary(e *parser.Unary, sc *scope) (texpr, error) {
	x, err := c.expr(e.X, sc)
	if err != nil {
		return texpr{}, err
	}
	if x.t == Dynamic {
		x = convert(x, Real)
	}
	if !x.t.numeric() && x.t != Timespan {
		return texpr{}, parser.Errorf(e.Span(), "cannot apply unary '%s' to a %s", e.Op, x.t)
	}
	if e.Op == "+" {
		return x, nil
	}
	if x.t == Int {
		x = convert(x, Long) // Kusto's integer arithmetic is long
	}
	return texpr{sql: "(-" + x.sql + ")", t: x.t}, nil
}

func (c *compiler) binary(e *parser.Binary, sc *scope) (texpr, error) {
	if _, star := e.Left.(*parser.Star); star {
		return c.anyColumn(e, sc)
	}
	l, err := c.expr(e.Left, sc)
	if err != nil {
		return texpr{}, err
	}
	r, err := c.expr(e.Right, sc)
	if err != nil {
		return texpr{}, err
	}
	switch e.Op {
	case "and", "or":
		ls, err := c.predicate(e.Left, l)
		if err != nil {
			return texpr{}, err
		}
		rs, err := c.predicate(e.Right, r)
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: ls + " " + strings.ToUpper(e.Op) + " " + rs, t: Bool}, nil
	case "+", "-", "*", "/", "%":
		return arithmetic(e, l, r)
	case "==", "!=", "<", "<=", ">", ">=":
		return compare(e, l, r)
	}
	return stringOperator(e, l, r)
}

// arithmetic follows Kusto's rules: integer arithmetic is long and integer
// division truncates; modulo is never negative; datetime - datetime is a
// timespan; datetime ± timespan is a datetime; timespan / timespan is real.
func arithmetic(e *parser.Binary, l, r texpr) (texpr, error) {
	if l.t == Dynamic {
		l = convert(l, Real)
	}
	if r.t == Dynamic {
		r = convert(r, Real)
	}
	bad := func() (texpr, error) {
		err := parser.Errorf(e.Span(), "cannot apply '%s' to a %s and a %s", e.Op, l.t, r.t)
		if e.Op == "+" && l.t == String && r.t == String {
			return texpr{}, err.WithHint("use strcat() to join strings")
		}
		return texpr{}, err
	}
	op := e.Op
	switch {
	case l.t.numeric() && r.t.numeric():
		t := Long
		if l.t == Real || r.t == Real {
			t = Real
		}
		ls, rs := convert(l, t).sql, convert(r, t).sql
		switch {
		case op == "/" && t == Long:
			return texpr{sql: "(" + ls + " // " + rs + ")", t: t}, nil
		case op == "%":
			// Kusto: 0 <= N % D < abs(D).
			return texpr{sql: fmt.Sprintf("(((%s %% %s) + abs(%s)) %% abs(%s))", ls, rs, rs, rs), t: t}, nil
		}
		return texpr{sql: "(" + ls + " " + op + " " + rs + ")", t: t}, nil
	case l.t == DateTime && r.t == DateTime && op == "-":
		return texpr{sql: "(" + unixTicksSQL(l.sql) + " - " + unixTicksSQL(r.sql) + ")", t: Timespan}, nil
	case l.t == DateTime && r.t == Timespan && (op == "+" || op == "-"):
		return addTicks(l.sql, op, r.sql), nil
	case l.t == Timespan && r.t == DateTime && op == "+":
		return addTicks(r.sql, "+", l.sql), nil
	case l.t == Timespan && r.t == Timespan:
		switch op {
		case "+", "-":
			return texpr{sql: "(" + l.sql + " " + op + " " + r.sql + ")", t: Timespan}, nil
		case "/":
			return texpr{sql: "(CAST(" + l.sql + " AS DOUBLE) / " + r.sql + ")", t: Real}, nil
		}
	case l.t == Timespan && r.t.numeric() && (op == "*" || op == "/"):
		return texpr{sql: "TRY_CAST(trunc(" + l.sql + " " + op + " " + convert(r, Real).sql + ") AS BIGINT)", t: Timespan}, nil
	case l.t.numeric() && r.t == Timespan && op == "*":
		return texpr{sql: "TRY_CAST(trunc(" + convert(l, Real).sql + " * " + r.sql + ") AS BIGINT)", t: Timespan}, nil
	}
	return bad()
}

// addTicks is datetime ± timespan, exact to the tick. The sum is taken in
// ticks: in nanoseconds a timespan (the difference of two far-apart
// datetimes) may not fit a BIGINT.
func addTicks(datetime, op, ticks string) texpr {
	return texpr{sql: "make_timestamp_ns((" + unixTicksSQL(datetime) + " " + op + " (" + ticks + ")) * 100)", t: DateTime}
}

// comparable brings both sides of a comparison to one type. A dynamic side
// converts to the other side's type (a dynamic string compares as a string);
// a string literal compared with a number converts when it holds a number,
// so `IncidentNumber == "405211"` (from Microsoft's docs) works.
func comparable(e parser.Node, l, r texpr) (texpr, texpr, error) {
	switch {
	case l.t == r.t:
		return l, r, nil
	case l.t == Int && fitsInt(r), r.t == Int && fitsInt(l):
		// An int column against a small long literal compares as int, which
		// keeps the column bare (and DuckDB's filter pushdown working).
		return texpr{sql: l.sql, t: Int, lit: l.lit}, texpr{sql: r.sql, t: Int, lit: r.lit}, nil
	case l.t.numeric() && r.t.numeric():
		t := Long
		if l.t == Real || r.t == Real {
			t = Real
		}
		return convert(l, t), convert(r, t), nil
	case l.t == Null:
		return convert(l, r.t), r, nil
	case r.t == Null:
		return l, convert(r, l.t), nil
	case l.t == Dynamic:
		return convert(l, r.t), r, nil
	case r.t == Dynamic:
		return l, convert(r, l.t), nil
	case l.t.numeric() && r.t == String && r.lit != nil:
		if n, ok := numericLiteral(r.lit.Str, l.t); ok {
			return l, n, nil
		}
	case r.t.numeric() && l.t == String && l.lit != nil:
		if n, ok := numericLiteral(l.lit.Str, r.t); ok {
			return n, r, nil
		}
	}
	return texpr{}, texpr{}, parser.Errorf(e.Span(), "cannot compare a %s with a %s", l.t, r.t).
		WithHint("convert one side, e.g. with tostring(), tolong() or todatetime()")
}

// fitsInt reports whether x is a long literal within the int range.
func fitsInt(x texpr) bool {
	return x.t == Long && x.lit != nil && !x.lit.Null && x.lit.Int >= math.MinInt32 && x.lit.Int <= math.MaxInt32
}

func numericLiteral(s string, t Type) (texpr, bool) {
	if t == Real {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		return texpr{sql: realSQL(f), t: Real}, err == nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return texpr{sql: strconv.FormatInt(n, 10), t: t}, err == nil
}

// compare implements ==, != and ordering with Kusto's null rules: == with one
// null side is false and != true; with two null sides both are null. Strings
// are never null, so plain SQL comparison is exact for them.
func compare(e *parser.Binary, l, r texpr) (texpr, error) {
	l, r, err := comparable(e, l, r)
	if err != nil {
		return texpr{}, err
	}
	if l.t == Dynamic { // both dynamic: compare their JSON text
		l, r = convert(l, String), convert(r, String)
	}
	op := e.Op
	if (op == "==" || op == "!=") && l.t != String {
		distinct := "IS NOT DISTINCT FROM"
		if op == "!=" {
			distinct = "IS DISTINCT FROM"
		}
		if notNull(l) || notNull(r) {
			return texpr{sql: "(" + l.sql + " " + distinct + " " + r.sql + ")", t: Bool}, nil
		}
		return texpr{sql: fmt.Sprintf("(CASE WHEN %s IS NULL AND %s IS NULL THEN NULL ELSE %s %s %s END)", l.sql, r.sql, l.sql, distinct, r.sql), t: Bool}, nil
	}
	if op == "==" {
		op = "="
	}
	return texpr{sql: "(" + l.sql + " " + op + " " + r.sql + ")", t: Bool}, nil
}

// notNull reports whether x is a non-null literal.
func notNull(x texpr) bool { return x.lit != nil && !x.lit.Null }

// asciiLower lowers ASCII letters only: Kusto's case-insensitive operators
// fold ASCII case and nothing else ("É" =~ "é" is false).
func asciiLower(sql string) string {
	return "translate(" + sql + ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
}

// foldedString returns a string expression lowered for a case-insensitive
// comparison; literals are lowered at compile time.
func foldedString(x texpr) string {
	if x.lit != nil && x.lit.Kind == parser.StringLit {
		return QuoteString(asciiLowerGo(x.lit.Str))
	}
	return asciiLower(x.sql)
}

func asciiLowerGo(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// stringOperator implements =~, has, contains, startswith, endswith and their
// negated and case-sensitive forms. Both sides are converted to strings.
func stringOperator(e *parser.Binary, l, r texpr) (texpr, error) {
	neg := strings.HasPrefix(e.Op, "!")
	op := strings.TrimPrefix(e.Op, "!")
	cs := strings.HasSuffix(op, "_cs") || op == "matches regex"
	op = strings.TrimSuffix(op, "_cs")
	l, r = convert(l, String), convert(r, String)
	ls, rs := l.sql, r.sql
	if !cs {
		ls, rs = foldedString(l), foldedString(r)
	}
	var sql string
	switch op {
	case "=~", "~":
		sql = "(" + ls + " = " + rs + ")"
	case "contains":
		sql = "contains(" + ls + ", " + rs + ")"
	case "startswith":
		sql = "starts_with(" + ls + ", " + rs + ")"
	case "endswith":
		sql = "ends_with(" + ls + ", " + rs + ")"
	case "has", "hasprefix", "hassuffix":
		if !cs && r.lit != nil && r.lit.Kind == parser.StringLit {
			ls = l.sql // the pattern folds case itself: no lowered copy of every value
		}
		sql = hasTerm(op, ls, rs, r, cs)
	case "matches regex": // Kusto's regular expressions are RE2, as DuckDB's
		if r.lit != nil && r.lit.Kind == parser.StringLit {
			if _, err := regexp.Compile(r.lit.Str); err != nil {
				return texpr{}, parser.Errorf(e.Right.Span(), "bad regular expression: %v", err)
			}
		}
		sql = "regexp_matches(" + l.sql + ", " + r.sql + ")"
	default:
		return texpr{}, parser.Errorf(e.Span(), "the '%s' operator is not supported", e.Op)
	}
	if neg {
		sql = "(NOT " + sql + ")"
	}
	return texpr{sql: sql, t: Bool}, nil
}

// termChars is what Kusto's has splits on: terms are maximal runs of ASCII
// letters and digits. A needle must sit on term boundaries wherever its own
// edge is a term character, which makes a needle with punctuation match as a
// phrase ("foo-bar" in "x foo-bar y"), as the engine does.
const nonTerm = `[^0-9A-Za-z]`

func hasTerm(op, hay, needleSQL string, needle texpr, cs bool) string {
	if needle.lit != nil && needle.lit.Kind == parser.StringLit {
		n := needle.lit.Str
		if !cs {
			n = asciiLowerGo(n)
		}
		if n == "" {
			return "TRUE"
		}
		pattern := regexp.QuoteMeta(n)
		if !cs {
			pattern = asciiFoldPattern(n)
		}
		isTerm := func(b byte) bool {
			return b < 0x80 && (b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z')
		}
		if op != "hassuffix" && isTerm(n[0]) {
			pattern = "(^|" + nonTerm + ")" + pattern
		}
		if op != "hasprefix" && isTerm(n[len(n)-1]) {
			pattern += "($|" + nonTerm + ")"
		}
		return "regexp_matches(" + hay + ", " + QuoteString(pattern) + ")"
	}
	// A needle computed at run time: build the pattern in SQL.
	pre, post := "'(^|"+nonTerm+")'", "'($|"+nonTerm+")'"
	if op == "hassuffix" {
		pre = "''"
	}
	if op == "hasprefix" {
		post = "''"
	}
	return fmt.Sprintf("(%s = '' OR regexp_matches(%s, %s || regexp_escape(%s) || %s))", needleSQL, hay, pre, needleSQL, post)
}

// asciiFoldPattern is a regular expression matching s with ASCII letters in
// either case and everything else as written: [hH][oO][tT][eE][lL]. Matched
// against the value itself, it finds what s finds in the value with ASCII
// letters lowered, without building that lowered copy of every value (and
// without RE2's (?i), which also folds non-ASCII letters such as the Kelvin
// sign into k).
func asciiFoldPattern(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteString("[" + string(r) + string(r-'a'+'A') + "]")
		case r >= 'A' && r <= 'Z':
			b.WriteString("[" + string(r-'A'+'a') + string(r) + "]")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}

// in implements in, !in, in~ and !in~: an OR of == (so a null left side is
// false, and !in true). Dynamic arrays in the list are flattened.
//
// has_any and has_all are an OR or AND of has (whole terms, ignoring case)
// over the list's items: literal arrays are flattened here, other dynamic
// values at run time (a non-array counts as one item, null as none). An
// empty list makes has_any false and has_all true.
func (c *compiler) in(e *parser.In, sc *scope) (texpr, error) {
	x, err := c.expr(e.X, sc)
	if err != nil {
		return texpr{}, err
	}
	if e.Op == "has_any" || e.Op == "has_all" {
		hay := convert(x, String)
		folded := foldedString(hay)
		join, empty, listAgg := " OR ", "FALSE", "list_bool_or"
		if e.Op == "has_all" {
			join, empty, listAgg = " AND ", "TRUE", "list_bool_and"
		}
		var parts []string
		for _, le := range e.List {
			item, err := c.expr(le, sc)
			if err != nil {
				return texpr{}, err
			}
			var items []texpr
			switch {
			case item.t == Dynamic && item.lit != nil && !item.lit.Null:
				if items, err = flattenDynamicLiteral(le, item.lit.Str); err != nil {
					return texpr{}, err
				}
			case item.t == Dynamic: // an array known only at run time
				elems := "(CASE WHEN json_type(" + item.sql + ") = 'ARRAY' THEN CAST(json_extract(" + item.sql + ", '$[*]') AS JSON[]) WHEN json_type(" + item.sql + ") <> 'NULL' THEN [" + item.sql + "] END)"
				parts = append(parts, bind([]string{folded, elems}, func(v []string) string {
					needle := texpr{sql: asciiLower(convert(texpr{sql: "socq_e", t: Dynamic}, String).sql), t: String}
					return "coalesce(" + listAgg + "(list_transform(" + v[1] + ", lambda socq_e: " + hasTerm("has", v[0], needle.sql, needle, false) + ")), " + empty + ")"
				}))
				continue
			default:
				items = []texpr{item}
			}
			for _, it := range items {
				if it.t != String || it.lit == nil {
					it = convert(it, String)
				}
				parts = append(parts, hasTerm("has", folded, foldedString(it), it, false))
			}
		}
		if len(parts) == 0 {
			return texpr{sql: empty, t: Bool}, nil
		}
		return texpr{sql: "(" + strings.Join(parts, join) + ")", t: Bool}, nil
	}
	ci := strings.HasSuffix(e.Op, "~")
	neg := strings.HasPrefix(e.Op, "!")
	var items []texpr
	for _, le := range e.List {
		item, err := c.expr(le, sc)
		if err != nil {
			return texpr{}, err
		}
		if item.t == Dynamic && item.lit != nil && !item.lit.Null {
			flat, err := flattenDynamicLiteral(le, item.lit.Str)
			if err != nil {
				return texpr{}, err
			}
			items = append(items, flat...)
			continue
		}
		items = append(items, item)
	}
	if ci || x.t == Dynamic {
		x = convert(x, String)
	}
	parts := make([]string, len(items))
	for i, item := range items {
		if ci {
			item = convert(item, String)
		}
		lx, ri, err := comparable(listItem(e, i), x, item)
		if err != nil {
			return texpr{}, err
		}
		if ci {
			parts[i] = foldedString(ri)
		} else {
			parts[i] = ri.sql
		}
		if i == 0 {
			x = lx
		}
	}
	left := x.sql
	if ci {
		left = foldedString(x)
	}
	sql := "coalesce(" + left + " IN (" + strings.Join(parts, ", ") + "), FALSE)"
	if neg {
		sql = "(NOT " + sql + ")"
	}
	return texpr{sql: sql, t: Bool}, nil
}

// listItem returns the node to blame for the i-th list item (flattened items
// map to the whole expression).
func listItem(e *parser.In, i int) parser.Node {
	if i < len(e.List) {
		return e.List[i]
	}
	return e
}

// flattenDynamicLiteral turns dynamic(["a", ["b"], 1]) into the scalar items.
func flattenDynamicLiteral(n parser.Node, text string) ([]texpr, error) {
	vals, err := decodeJSONArray(text)
	if err != nil {
		return nil, parser.Errorf(n.Span(), "%v", err)
	}
	var out []texpr
	for _, v := range vals {
		switch v := v.(type) {
		case string:
			out = append(out, literal(&parser.Literal{Kind: parser.StringLit, Str: v}))
		case bool:
			out = append(out, literal(&parser.Literal{Kind: parser.BoolLit, Bool: v}))
		case jsonNumber:
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				out = append(out, literal(&parser.Literal{Kind: parser.LongLit, Int: n}))
			} else if f, err := strconv.ParseFloat(string(v), 64); err == nil {
				out = append(out, literal(&parser.Literal{Kind: parser.RealLit, Real: f}))
			}
		}
	}
	return out, nil
}

func (c *compiler) between(e *parser.Between, sc *scope) (texpr, error) {
	x, err := c.expr(e.X, sc)
	if err != nil {
		return texpr{}, err
	}
	lo, err := c.expr(e.Low, sc)
	if err != nil {
		return texpr{}, err
	}
	hi, err := c.expr(e.High, sc)
	if err != nil {
		return texpr{}, err
	}
	if x.t == Dynamic {
		x = convert(x, Real)
	}
	if hi.t == Timespan && lo.t == DateTime {
		hi = addTicks(lo.sql, "+", hi.sql)
	}
	if !(x.t.numeric() || x.t == DateTime || x.t == Timespan) {
		return texpr{}, parser.Errorf(e.X.Span(), "between needs a number, datetime or timespan, not a %s", x.t)
	}
	x1, lo, err := comparable(e, x, lo)
	if err != nil {
		return texpr{}, err
	}
	x2, hi, err := comparable(e, x, hi)
	if err != nil {
		return texpr{}, err
	}
	if x1.t != x2.t { // e.g. long between (1 .. 2.5): compare as real
		x1, lo, hi = convert(x, Real), convert(lo, Real), convert(hi, Real)
	}
	not := ""
	if e.Not {
		not = "NOT "
	}
	return texpr{sql: "(" + x1.sql + " " + not + "BETWEEN " + lo.sql + " AND " + hi.sql + ")", t: Bool}, nil
}

// dynamicPath compiles X.a[0]["b"] into one json_extract with a JSONPath;
// keys that JSONPath cannot spell go through a JSON Pointer step instead.
func (c *compiler) dynamicPath(e parser.Expr, sc *scope) (texpr, error) {
	var steps []parser.Expr
	base := e
	for {
		if m, ok := base.(*parser.Member); ok {
			steps = append([]parser.Expr{m}, steps...)
			base = m.X
			continue
		}
		if ix, ok := base.(*parser.Index); ok {
			steps = append([]parser.Expr{ix}, steps...)
			base = ix.X
			continue
		}
		break
	}
	x, err := c.expr(base, sc)
	if err != nil {
		return texpr{}, err
	}
	if x.t != Dynamic {
		return texpr{}, parser.Errorf(base.Span(), "'%s' is a %s, not a dynamic value: it has no properties or elements", base, x.t)
	}
	sql, path := x.sql, "$"
	var last *jsonPath // the last constant-path extraction, when it is the whole expression
	flush := func() {
		if path != "$" {
			last = &jsonPath{base: sql, path: path}
			sql = "json_extract(" + sql + ", " + QuoteString(path) + ")"
			path = "$"
		} else {
			last = nil
		}
	}
	for _, st := range steps {
		var key string
		var index *int64
		var dynamic *texpr
		switch st := st.(type) {
		case *parser.Member:
			key = st.Name.Name
		case *parser.Index:
			ix, err := c.expr(st.Index, sc)
			if err != nil {
				return texpr{}, err
			}
			switch {
			case ix.lit != nil && ix.lit.Kind == parser.StringLit:
				key = ix.lit.Str
			case ix.lit != nil && (ix.lit.Kind == parser.LongLit || ix.lit.Kind == parser.IntLit) && !ix.lit.Null:
				index = &ix.lit.Int
			case ix.t == String || ix.t.numeric() && ix.t != Real:
				dynamic = &ix
			default:
				return texpr{}, parser.Errorf(st.Index.Span(), "an index must be a string or a whole number, not a %s", ix.t)
			}
		}
		switch {
		case index != nil && *index >= 0:
			path += fmt.Sprintf("[%d]", *index)
		case index != nil:
			path += fmt.Sprintf("[#%d]", *index)
		case dynamic != nil && dynamic.t == String:
			flush()
			sql = "json_extract(" + sql + ", '/' || replace(replace(" + dynamic.sql + ", '~', '~0'), '/', '~1'))"
		case dynamic != nil:
			flush()
			sql = fmt.Sprintf("json_extract(%s, CASE WHEN %s < 0 THEN '$[#' || %s || ']' ELSE '$[' || %s || ']' END)", sql, dynamic.sql, dynamic.sql, dynamic.sql)
		case plainKey.MatchString(key):
			path += "." + key
		case key != "" && !strings.ContainsAny(key, `"\`):
			path += `."` + key + `"`
		default:
			flush()
			sql = "json_extract(" + sql + ", " + QuoteString("/"+strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")) + ")"
		}
	}
	flush()
	return texpr{sql: sql, t: Dynamic, path: last}, nil
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// anyColumn is "* has x" (or contains, startswith, … and their negations):
// true when some column, as text, matches; a negated operator is true when
// none does (Kusto docs, where-operator: "* has" searches every column).
func (c *compiler) anyColumn(e *parser.Binary, sc *scope) (texpr, error) {
	switch strings.TrimSuffix(strings.TrimPrefix(e.Op, "!"), "_cs") {
	case "has", "contains", "startswith", "endswith", "hasprefix", "hassuffix", "matches regex":
	default:
		return texpr{}, parser.Errorf(e.Left.Span(), "'*' stands for every column only before a string operator such as has or contains")
	}
	r, err := c.expr(e.Right, sc)
	if err != nil {
		return texpr{}, err
	}
	positive := strings.TrimPrefix(e.Op, "!")
	var parts []string
	for _, col := range sc.cols {
		one := &parser.Binary{At: e.At, Op: positive, Left: e.Left, Right: e.Right}
		x, err := stringOperator(one, convert(texpr{sql: QuoteIdent(col.sql), t: col.Type}, String), r)
		if err != nil {
			return texpr{}, err
		}
		parts = append(parts, "coalesce("+x.sql+", FALSE)")
	}
	if len(parts) == 0 {
		parts = []string{"FALSE"}
	}
	any := "(" + strings.Join(parts, " OR ") + ")"
	if positive != e.Op {
		any = "(NOT " + any + ")"
	}
	return texpr{sql: any, t: Bool}, nil
}
