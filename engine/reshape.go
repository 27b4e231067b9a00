package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/socq/socq/parser"
)

// The operators in this file reorder, reduce or rename rows and columns
// without computing new values: sort, top, distinct and the project-* family.
//
// Sorting relies on DuckDB keeping the order of an ORDER BY through later
// filters, projections, unnest and LIMIT (it does, with its default
// preserve_insertion_order), so a sort stays one CTE like every other stage.

// orderBy compiles sort keys to an ORDER BY list. Kusto sorts descending by
// default, with nulls last when descending and first when ascending.
func (c *compiler) orderBy(keys []*parser.SortKey, in *scope) (string, error) {
	parts := make([]string, len(keys))
	for i, k := range keys {
		x, err := c.expr(k.Expr, in)
		if err != nil {
			return "", err
		}
		if x.t == Dynamic {
			x = convert(x, String) // dynamic values sort by their text
		}
		if x.lit != nil {
			// A bare number in ORDER BY would be a column position to SQL.
			x.sql = "CAST(" + x.sql + " AS " + x.t.SQLType() + ")"
		}
		dir, nulls := "DESC", "LAST"
		if k.Dir == "asc" {
			dir, nulls = "ASC", "FIRST"
		}
		if k.Nulls != "" {
			nulls = strings.ToUpper(k.Nulls)
		}
		parts[i] = x.sql + " " + dir + " NULLS " + nulls
	}
	return strings.Join(parts, ", "), nil
}

func (c *compiler) sort(op *parser.Sort, in *scope) (*scope, error) {
	order, err := c.orderBy(op.Keys, in)
	if err != nil {
		return nil, err
	}
	// The sorted rows are serialized: a window function after the sort
	// numbers them in this order (flushWindows).
	out := in.over(c.addCTE("SELECT " + starExceptOrder(in) + "\nFROM " + in.from + "\nORDER BY " + order))
	out.serialized, out.order = true, ""
	return out, nil
}

func (c *compiler) top(op *parser.Top, in *scope) (*scope, error) {
	n, err := c.constInt(op.Count, in)
	if err != nil {
		return nil, err
	}
	order, err := c.orderBy([]*parser.SortKey{op.Key}, in)
	if err != nil {
		return nil, err
	}
	if q := c.perPartition(n, order); q != "" {
		return &scope{cols: in.cols, from: c.addCTE("SELECT *\nFROM " + in.from + q)}, nil
	}
	// top's output is serialized, as sort's is.
	out := in.over(c.addCTE(fmt.Sprintf("SELECT %s\nFROM %s\nORDER BY %s\nLIMIT %d", starExceptOrder(in), in.from, order, n)))
	out.serialized, out.order = true, ""
	return out, nil
}

func (c *compiler) distinct(op *parser.Distinct, in *scope) (*scope, error) {
	cols := in.cols
	if !op.Star {
		var err error
		if cols, err = pick(op.Columns, in, false); err != nil {
			return nil, err
		}
		if c.partition != nil {
			cols = append(cols, *c.partition)
		}
	}
	out := &scope{cols: cols}
	sel := make([]string, len(cols))
	for i, col := range cols {
		sel[i] = QuoteIdent(col.sql)
	}
	out.from = c.addCTE("SELECT DISTINCT " + strings.Join(sel, ", ") + "\nFROM " + in.from)
	return out, nil
}

// pick returns the named columns of in, in the order named; with
// wildcards, a name stands for every matching column in input order.
func pick(ids []*parser.Ident, in *scope, wildcards bool) ([]scopeColumn, error) {
	out := make([]scopeColumn, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		if wildcards && strings.Contains(id.Name, "*") {
			for _, col := range in.cols {
				if wildcardMatch(id.Name, col.Name) && !seen[col.Name] && col.Name != partitionColumn {
					seen[col.Name] = true
					out = append(out, col)
				}
			}
			continue
		}
		col, ok := in.lookup(id.Name)
		if !ok {
			return nil, unknownColumn(id, in)
		}
		if seen[id.Name] {
			return nil, parser.Errorf(id.Span(), "column '%s' is named twice", id.Name)
		}
		seen[id.Name] = true
		out = append(out, col)
	}
	return out, nil
}

// wildcardMatch matches a name against a pattern where * stands for any run
// of characters (case-sensitive, as names are).
func wildcardMatch(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(name, p)
		}
		j := strings.Index(name, p)
		if j < 0 {
			return false
		}
		name = name[j+len(p):]
	}
	return name == ""
}

// projectNames is project-away (drop the named columns), project-keep (keep
// only them, in input order) and project-reorder (them first, as named).
func (c *compiler) projectNames(op *parser.ProjectNames, in *scope) (*scope, error) {
	named, err := pick(op.Columns, in, true)
	if err != nil {
		return nil, err
	}
	isNamed := map[string]bool{}
	for _, col := range named {
		isNamed[col.Name] = true
	}
	var cols []scopeColumn
	switch op.Keyword {
	case "project-reorder":
		cols = append(cols, named...)
		for _, col := range in.cols {
			if !isNamed[col.Name] {
				cols = append(cols, col)
			}
		}
	default:
		keep := op.Keyword == "project-keep"
		for _, col := range in.cols {
			if isNamed[col.Name] == keep {
				cols = append(cols, col)
			}
		}
	}
	if len(cols) == 0 {
		return nil, parser.Errorf(op.Span(), "%s would leave no columns", op.Keyword)
	}
	if p := c.partition; p != nil && !slices.ContainsFunc(cols, func(col scopeColumn) bool { return col.Name == p.Name }) {
		cols = append(cols, *p)
	}
	return c.reselect(cols, in)
}

func (c *compiler) projectRename(op *parser.ProjectRename, in *scope) (*scope, error) {
	cols := append([]scopeColumn(nil), in.cols...)
	for _, r := range op.Renames {
		i := in.index(r.Old.Name)
		if i < 0 {
			return nil, unknownColumn(r.Old, in)
		}
		cols[i].Name = r.New.Name
	}
	seen := map[string]bool{}
	for _, col := range cols {
		if seen[col.Name] {
			return nil, parser.Errorf(op.Span(), "project-rename makes two columns called '%s'", col.Name)
		}
		seen[col.Name] = true
	}
	return c.reselect(cols, in)
}

// reselect emits a stage holding exactly cols (columns of in, possibly
// renamed), giving them fresh collision-free SQL names.
func (c *compiler) reselect(cols []scopeColumn, in *scope) (*scope, error) {
	ps := make([]projection, len(cols))
	for i, col := range cols {
		ps[i] = projection{col.Column, QuoteIdent(col.sql)}
	}
	return c.emitProjection(ps, in, "")
}
