package engine

import (
	"slices"
	"strings"
)

// argStruct is an arg_max/arg_min of summarize: one struct of every
// column it keeps from the chosen row (arg_max(T, *) packs them all),
// grouped in one stage and unpacked into columns in the next. Packing a
// wide row costs far more than the aggregation itself, and DuckDB cannot
// drop struct fields nobody reads, so prunedCTEs drops them: a field whose
// column no later stage names is left out of the struct and the unpacking.
type argStruct struct {
	grouped, unpacked int    // indexes of the two stages in compiler.ctes
	sql               string // the aggregate as written in the grouped stage
	fields            []argField
}

type argField struct {
	pack   string // `fN := expr` inside struct_pack
	unpack string // `"_argK"."fN" AS "Col"` in the unpacking stage
	column string // the unpacked column's quoted SQL name
}

// probeSQL is the query that asks the database a question about the data
// at the current stage (bag_unpack's keys, pivot's values, a toscalar()):
// the stages so far, pruned, then tail.
func (c *compiler) probeSQL(tail string) string {
	return "WITH " + strings.Join(c.prunedCTEs(tail), ",\n") + tail
}

// prunedCTEs returns the stages (from firstStage on: the earlier ones are
// staged, see stage.go) with the unused fields of every arg_max and
// arg_min struct removed, given tail, the SQL that follows the stages. A
// field is unused when no later stage reads its column: every stage names
// the columns it reads (a stage that passes all columns on is SELECT *, and
// the final SELECT names the output), and a stage whose select list only
// passes the column on unchanged (mv-expand, bag_unpack and project list
// every column) reads it only if a later one does; such pass-throughs are
// removed with the field. Anything else that mentions the column's quoted
// name keeps it, so the analysis can keep a field it need not keep, never
// drop one it needs. The first field, the maximised value, always stays.
func (c *compiler) prunedCTEs(tail string) []string {
	st := newStages(c.ctes)
	// Latest first: a later struct that stops naming a column may free an
	// earlier one.
	for i := len(c.argStructs) - 1; i >= 0; i-- {
		a := c.argStructs[i]
		if a.grouped < c.firstStage {
			break // staged already (stage.go)
		}
		all := make([]string, len(a.fields))
		kept := []string{a.fields[0].pack}
		// Dropping one field's items does not change what another field's
		// column is found in, so each stage is rewritten once per struct.
		drop := map[int]map[string]bool{}
		dropItem := func(k int, item string) {
			if drop[k] == nil {
				drop[k] = map[string]bool{}
			}
			drop[k][item] = true
		}
		for j, f := range a.fields {
			all[j] = f.pack
			if j == 0 {
				continue
			}
			passes, used := st.passedOn(a.unpacked+1, tail, f.column)
			if used {
				kept = append(kept, f.pack)
				continue
			}
			dropItem(a.unpacked, f.unpack)
			for _, k := range passes {
				dropItem(k, f.column)
			}
		}
		if len(kept) == len(all) {
			continue
		}
		for k, items := range drop {
			st.withoutItems(k, items)
		}
		// Every struct_pack of the fields (arg_max's, and any_value's for a group
		// whose value is null in every row) loses the same fields.
		pruned := strings.ReplaceAll(a.sql, strings.Join(all, ", "), strings.Join(kept, ", "))
		indent := func(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") } // as addCTE writes
		st.set(a.grouped, strings.Replace(st.ctes[a.grouped], indent(a.sql), indent(pruned), 1))
	}
	return st.ctes[c.firstStage:]
}

// stages are the stages being pruned, with each one's select items split
// once (selectItems) and split again only after the stage changes: a wide
// arg_max(T, *) asks about every stage once per field.
type stages struct {
	ctes  []string
	items [][]string
	split []bool
}

// newStages copies ctes for pruning.
func newStages(ctes []string) *stages {
	return &stages{ctes: slices.Clone(ctes), items: make([][]string, len(ctes)), split: make([]bool, len(ctes))}
}

func (st *stages) set(k int, stage string) {
	st.ctes[k] = stage
	st.split[k] = false
}

func (st *stages) selectItems(k int) []string {
	if !st.split[k] {
		st.items[k], st.split[k] = selectItems(st.ctes[k]), true
	}
	return st.items[k]
}

// passedOn follows column (a quoted SQL name) through the stages from
// index from on. It reports the stages that only pass it on, and whether
// any stage or the tail reads it otherwise.
func (st *stages) passedOn(from int, tail, column string) (passes []int, used bool) {
	for k := from; k < len(st.ctes); k++ {
		n := strings.Count(st.ctes[k], column)
		if n == 0 {
			continue
		}
		if items := st.selectItems(k); n == 1 && len(items) > 1 && slices.Contains(items, column) {
			passes = append(passes, k)
			continue
		}
		return nil, true
	}
	return passes, strings.Contains(tail, column)
}

// withoutItems removes the select items of stage k that are in drop: a
// column passed on unchanged (see passedOn), or an unpacked struct field.
func (st *stages) withoutItems(k int, drop map[string]bool) {
	head, body, _ := strings.Cut(st.ctes[k], "(\n  SELECT ")
	_, rest, _ := strings.Cut(body, "\n  FROM ")
	items := slices.DeleteFunc(slices.Clone(st.selectItems(k)), func(it string) bool { return drop[it] })
	st.ctes[k] = head + "(\n  SELECT " + strings.Join(items, ", ") + "\n  FROM " + rest
	st.items[k] = items
}

// selectItems splits the select list of a stage written by addCTE
// ("sN AS (\n  SELECT a, f(b, c) AS d\n  FROM ...") at its top-level
// commas. A stage whose rows depend on all of its columns or on their
// positions (DISTINCT, GROUP BY, UNION) has no items that merely pass a
// column on: it returns nil.
func selectItems(stage string) []string {
	_, body, ok := strings.Cut(stage, "(\n  SELECT ")
	if !ok || strings.HasPrefix(body, "DISTINCT") || strings.Contains(body, "GROUP BY") || strings.Contains(body, "UNION") {
		return nil
	}
	list, _, ok := strings.Cut(body, "\n  FROM ")
	if !ok {
		return nil
	}
	var items []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(list); i++ {
		ch := list[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '(' || ch == '[':
			depth++
		case ch == ')' || ch == ']':
			depth--
		case ch == ',' && depth == 0:
			items = append(items, strings.TrimSpace(list[start:i]))
			start = i + 1
		}
	}
	return append(items, strings.TrimSpace(list[start:]))
}
