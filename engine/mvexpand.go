package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/socq/socq/parser"
)

// mvExpand compiles mv-expand with the semantics of the Kusto docs:
// a null value gives one row with null; an empty array or bag gives no row;
// arrays give one row per element in order; bags give single-key bags
// (kind=bag, the default) or [key, value] arrays (kind=array); a scalar gives
// itself; several expanded columns go in parallel, the shorter padded with
// null. DuckDB's unnest in a select list zips lists exactly that way.
func (c *compiler) mvExpand(op *parser.MvExpand, in *scope) (*scope, error) {
	limit := int64(-1)
	if op.Limit != nil {
		n, err := c.constInt(op.Limit, in)
		if err != nil {
			return nil, err
		}
		limit = n
	}
	type expansion struct {
		name   string
		list   string // a SQL list expression
		toType Type
	}
	var exps []expansion
	for _, it := range op.Items {
		x, err := c.expr(it.Expr, in)
		if err != nil {
			return nil, err
		}
		name := columnName(it.Expr)
		if it.Name != nil {
			name = it.Name.Name
		}
		if name == "" {
			return nil, parser.Errorf(it.Expr.Span(), "name the expanded expression: mv-expand Name = %s", it.Expr)
		}
		if x.t != Dynamic {
			return nil, parser.Errorf(it.Expr.Span(), "mv-expand needs a dynamic array or bag, but '%s' is a %s", it.Expr, x.t)
		}
		to := Dynamic
		if it.ToType != nil {
			t, ok := TypeByName(it.ToType.Name)
			if !ok {
				return nil, parser.Errorf(it.ToType.Span(), "unknown type '%s'", it.ToType.Name)
			}
			to = t
		}
		list := dynamicToList(x.sql, op.Kind == "array")
		if limit >= 0 {
			list = fmt.Sprintf("list_slice(%s, 1, %d)", list, limit)
		}
		exps = append(exps, expansion{name, list, to})
	}

	// Stage 1 computes the lists beside the input columns; stage 2 unnests
	// them in parallel; stage 3, only for `to typeof(T)`, converts elements
	// (unnest cannot sit inside the CASE a conversion needs).
	hidden := slices.Clip(in.hidden)
	listSel := []string{"*"}
	cols := c.passThrough(in, len(exps)+2)
	var lists []string
	typed := false
	for i, e := range exps {
		listID := freshSQLName("_mv"+strconv.Itoa(i), in, func(id string) bool {
			return slices.ContainsFunc(hidden, func(h string) bool { return strings.EqualFold(h, id) })
		})
		hidden = append(hidden, listID)
		id := QuoteIdent(listID)
		lists = append(lists, id)
		listSel = append(listSel, e.list+" AS "+id)
		cols = replaceOrAppend(cols, projection{Column{e.name, Dynamic}, "unnest(" + id + ")"})
		typed = typed || e.toType != Dynamic
	}
	longest := "len(" + lists[0] + ")"
	if len(lists) > 1 {
		longest = "greatest(len(" + strings.Join(lists, "), len(") + "))"
	}
	if op.ItemIndex != nil {
		cols = replaceOrAppend(cols, projection{Column{op.ItemIndex.Name, Long}, "unnest(range(" + longest + "))"})
	}
	if in.order != "" {
		// mv-expand keeps serialized rows serialized: a row's elements
		// follow it, in their order.
		cols = append(cols, projection{Column{orderColumn, Long}, "(" + QuoteIdent(in.order) + " * 4294967296 + unnest(range(" + longest + ")))"})
	}
	// Numbered rows get a new number (above), so the old one is left out:
	// only a list of the columns can do that.
	listed := &scope{cols: in.cols, exact: in.exact && in.order == "", hidden: hidden}
	listed.from = c.addCTE("SELECT " + strings.Join(listSel, ", ") + "\nFROM " + in.from)
	expanded, err := c.emitProjection(cols, listed, "")
	if err != nil {
		return nil, err
	}
	if in.order != "" {
		last := expanded.cols[len(expanded.cols)-1]
		expanded.cols = expanded.cols[:len(expanded.cols)-1]
		expanded.order = last.sql
	}
	expanded.serialized = in.serialized
	if !typed {
		return expanded, nil
	}
	conv := make([]projection, len(expanded.cols))
	for i, col := range expanded.cols {
		conv[i] = projection{col.Column, QuoteIdent(col.sql)}
	}
	for _, e := range exps {
		i := indexOf(conv, e.name)
		conv[i] = projection{Column{e.name, e.toType}, elementAs(texpr{sql: conv[i].sql, t: Dynamic}, e.toType).sql}
	}
	return c.emitProjection(conv, expanded, "")
}

// replaceOrAppend puts p in place of the column of the same name, or last.
func replaceOrAppend(cols []projection, p projection) []projection {
	if i := indexOf(cols, p.Name); i >= 0 {
		cols[i] = p
		return cols
	}
	return append(cols, p)
}

// dynamicToList turns a dynamic value into the SQL list mv-expand unnests.
func dynamicToList(x string, bagAsArray bool) string {
	// struct_extract, not entry.key: DuckDB would read "entry.key" as a
	// column called entry if the input had one.
	pair := "json_object(struct_extract(mv_entry, 'key'), struct_extract(mv_entry, 'value'))"
	if bagAsArray {
		pair = "json_array(struct_extract(mv_entry, 'key'), struct_extract(mv_entry, 'value'))"
	}
	return "(CASE WHEN " + x + " IS NULL OR " + jsonIs(x, "NULL") + " THEN [CAST(NULL AS JSON)]" +
		" WHEN " + jsonIs(x, "ARRAY") + " THEN CAST(" + x + " AS JSON[])" +
		" WHEN " + jsonIs(x, "OBJECT") + " THEN list_transform(map_entries(CAST(" + x + " AS MAP(VARCHAR, JSON))), mv_entry -> " + pair + ")" +
		" ELSE [" + x + "] END)"
}

// elementAs converts an expanded element for `to typeof(T)`. The docs say
// this is a cast, not a parse: elements that do not conform become null
// ("" for string).
func elementAs(x texpr, t Type) texpr {
	s := x.sql
	switch t {
	case Dynamic:
		return x
	case String:
		return texpr{sql: "coalesce(CASE WHEN json_type(" + s + ") = 'VARCHAR' THEN " + jsonText(s) + " END, '')", t: String}
	case Long, Int:
		return texpr{sql: "(CASE WHEN json_type(" + s + ") IN ('BIGINT', 'UBIGINT') THEN TRY_CAST(" + s + " AS " + t.SQLType() + ") END)", t: t}
	case Real:
		return texpr{sql: "(CASE WHEN json_type(" + s + ") IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(" + s + " AS DOUBLE) END)", t: t}
	case Bool:
		return texpr{sql: "(CASE WHEN json_type(" + s + ") = 'BOOLEAN' THEN CAST(" + s + " AS BOOLEAN) END)", t: t}
	case DateTime:
		return convert(x, DateTime)
	}
	return texpr{sql: "CAST(NULL AS " + t.SQLType() + ")", t: t}
}
