package engine

import (
	"strings"

	"github.com/socq/socq/parser"
)

// joinKinds maps Kusto's join kinds to how they compile. innerunique, the
// default, first reduces the left side to one (arbitrary) row per key.
var joinKinds = map[string]struct {
	sql         string // the SQL join, or "" for semi and anti joins
	left, right bool   // which sides' columns the output has
	exists      string // EXISTS or NOT EXISTS for semi/anti joins
}{
	"innerunique":   {sql: "JOIN", left: true, right: true},
	"inner":         {sql: "JOIN", left: true, right: true},
	"leftouter":     {sql: "LEFT JOIN", left: true, right: true},
	"rightouter":    {sql: "RIGHT JOIN", left: true, right: true},
	"fullouter":     {sql: "FULL JOIN", left: true, right: true},
	"leftsemi":      {left: true, exists: "EXISTS"},
	"leftanti":      {left: true, exists: "NOT EXISTS"},
	"leftantisemi":  {left: true, exists: "NOT EXISTS"},
	"rightsemi":     {right: true, exists: "EXISTS"},
	"rightanti":     {right: true, exists: "NOT EXISTS"},
	"rightantisemi": {right: true, exists: "NOT EXISTS"},
}

// joinKey is one equality of a join's on clause.
type joinKey struct{ left, right scopeColumn }

func (c *compiler) join(op *parser.Join, left *scope) (*scope, error) {
	kindName := op.Kind
	switch {
	case kindName == "" && op.Lookup:
		kindName = "leftouter"
	case kindName == "":
		kindName = "innerunique"
	case op.Lookup && kindName != "leftouter" && kindName != "inner":
		return nil, parser.Errorf(op.Span(), "lookup's kind is leftouter or inner, not '%s'", op.Kind)
	}
	kind, ok := joinKinds[kindName]
	if !ok {
		return nil, parser.Errorf(op.Span(), "unknown join kind '%s'", op.Kind)
	}
	right, err := c.pipeline(op.Right)
	if err != nil {
		return nil, err
	}
	var keys []joinKey
	for _, cond := range op.On {
		k, err := joinKeys(cond, left, right)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	on := make([]string, len(keys))
	for i, k := range keys {
		l := texpr{sql: "l." + QuoteIdent(k.left.sql), t: k.left.Type}
		r := texpr{sql: "r." + QuoteIdent(k.right.sql), t: k.right.Type}
		l, r, err := comparable(op, l, r)
		if err != nil {
			return nil, err
		}
		on[i] = l.sql + " = " + r.sql
	}
	cond := strings.Join(on, " AND ")

	leftFrom := left.from
	if kindName == "innerunique" {
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = QuoteIdent(k.left.sql)
		}
		leftFrom = c.addCTE("SELECT *\nFROM " + left.from + "\nQUALIFY row_number() OVER (PARTITION BY " + strings.Join(parts, ", ") + ") = 1")
	}

	if kind.exists != "" {
		keep, other, alias, otherAlias := left, right.from, "l", "r"
		from := leftFrom
		if kind.right {
			keep, other, alias, otherAlias, from = right, leftFrom, "r", "l", right.from
		}
		body := "SELECT " + alias + ".*\nFROM " + from + " AS " + alias +
			"\nWHERE " + kind.exists + " (SELECT 1 FROM " + other + " AS " + otherAlias + " WHERE " + cond + ")"
		return &scope{cols: keep.cols, from: c.addCTE(body)}, nil
	}

	// Left columns keep their names; a right column whose name is taken
	// gets a numeric suffix (IncidentNumber1), as in Kusto.
	// An outer join's missing side is null, but Kusto strings are never
	// null: they come out as "".
	names := newNameSet()
	var cols []projection
	side := func(alias string, col scopeColumn, nullable bool) string {
		sql := alias + "." + QuoteIdent(col.sql)
		if nullable && col.Type == String {
			sql = "coalesce(" + sql + ", '')"
		}
		return sql
	}
	outerLeft := kindName == "rightouter" || kindName == "fullouter"
	outerRight := kindName == "leftouter" || kindName == "fullouter"
	for _, col := range left.cols {
		names.add(col.Name)
		cols = append(cols, projection{col.Column, side("l", col, outerLeft)})
	}
	isRightKey := map[string]bool{}
	for _, k := range keys {
		isRightKey[k.right.Name] = op.Lookup // lookup does not repeat the keys
	}
	for _, col := range right.cols {
		if isRightKey[col.Name] {
			continue
		}
		name := names.unique(col.Name)
		names.add(name)
		cols = append(cols, projection{Column{name, col.Type}, side("r", col, outerRight)})
	}
	return c.emitProjection(cols, &scope{from: leftFrom + " AS l"}, "\n"+kind.sql+" "+right.from+" AS r ON "+cond)
}

// joinKeys reads one on-condition: a column both sides have, or
// $left.A == $right.B (either way round), or several joined with and.
func joinKeys(cond parser.Expr, left, right *scope) ([]joinKey, error) {
	switch e := unparen(cond).(type) {
	case *parser.Ident:
		l, ok := left.lookup(e.Name)
		if !ok {
			return nil, parser.Errorf(e.Span(), "the left side of the join has no column '%s'", e.Name)
		}
		r, ok := right.lookup(e.Name)
		if !ok {
			return nil, parser.Errorf(e.Span(), "the right side of the join has no column '%s'", e.Name)
		}
		return []joinKey{{l, r}}, nil
	case *parser.Binary:
		if e.Op == "and" {
			a, err := joinKeys(e.Left, left, right)
			if err != nil {
				return nil, err
			}
			b, err := joinKeys(e.Right, left, right)
			return append(a, b...), err
		}
		if e.Op == "==" {
			side1, name1, ok1 := sideColumn(e.Left)
			side2, name2, ok2 := sideColumn(e.Right)
			if ok1 && ok2 && side1 != side2 {
				if side1 == "$right" {
					name1, name2 = name2, name1
				}
				l, ok := left.lookup(name1.Name)
				if !ok {
					return nil, parser.Errorf(name1.Span(), "the left side of the join has no column '%s'", name1.Name)
				}
				r, ok := right.lookup(name2.Name)
				if !ok {
					return nil, parser.Errorf(name2.Span(), "the right side of the join has no column '%s'", name2.Name)
				}
				return []joinKey{{l, r}}, nil
			}
		}
	}
	return nil, parser.Errorf(cond.Span(), "a join condition is a column name or $left.A == $right.B")
}

// sideColumn reads $left.Name or $right.Name.
func sideColumn(e parser.Expr) (side string, name *parser.Ident, ok bool) {
	m, isMember := e.(*parser.Member)
	if !isMember {
		return "", nil, false
	}
	id, isIdent := m.X.(*parser.Ident)
	if !isIdent || (id.Name != "$left" && id.Name != "$right") {
		return "", nil, false
	}
	return id.Name, m.Name, true
}
