package engine

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/socq/socq/parser"
)

// parseOp compiles the parse operator (kind=simple, the default, or
// kind=regex, where the text parts are regular expressions): the pattern
// becomes one RE2 regular expression anchored at the start, columns
// capture as little as they can (the last one takes the rest), '*' skips,
// typed columns only match text of their type. A string that does not match
// gives null in every new column ("" for strings), as the Kusto docs say.
func (c *compiler) parseOp(op *parser.ParseOp, in *scope) (*scope, error) {
	if op.Kind != "" && op.Kind != "simple" && op.Kind != "regex" {
		return nil, parser.Errorf(op.Span(), "parse kind=%s is not supported by socq yet (simple and regex are)", op.Kind)
	}
	regexMode := op.Kind == "regex"
	x, err := c.expr(op.Expr, in)
	if err != nil {
		return nil, err
	}
	text := convert(x, String).sql
	var pattern strings.Builder
	pattern.WriteString("^")
	type capture struct {
		name string
		t    Type
	}
	var caps []capture
	for i, part := range op.Parts {
		last := i == len(op.Parts)-1
		switch {
		case part.Text != nil && regexMode: // the text is a regular expression
			if _, err := regexp.Compile(*part.Text); err != nil {
				return nil, parser.Errorf(part.Span(), "bad regular expression: %v", err)
			}
			pattern.WriteString("(?:" + *part.Text + ")")
		case part.Text != nil:
			pattern.WriteString(regexp.QuoteMeta(*part.Text))
		case part.Star:
			if last {
				pattern.WriteString("(?:.*)")
			} else {
				pattern.WriteString("(?:.*?)")
			}
		default:
			t := String
			if part.Type != nil {
				var ok bool
				if t, ok = TypeByName(part.Type.Name); !ok || t == Dynamic {
					return nil, parser.Errorf(part.Type.Span(), "parse cannot extract a '%s'", part.Type.Name)
				}
			}
			pattern.WriteString(captureFor(t, last))
			caps = append(caps, capture{part.Column.Name, t})
		}
	}
	if len(caps) == 0 {
		return nil, parser.Errorf(op.Span(), "the parse pattern names no column to extract")
	}
	re := QuoteString(pattern.String())
	cols := c.passThrough(in, len(op.Parts))
	for i, cp := range caps {
		group := texpr{sql: fmt.Sprintf("regexp_extract(%s, %s, %d)", text, re, i+1), t: String}
		value := convert(group, cp.t).sql
		if cp.t == String {
			value = group.sql
		}
		sql := "(CASE WHEN regexp_matches(" + text + ", " + re + ") THEN " + value + " END)"
		if cp.t == String {
			sql = "coalesce(" + sql + ", '')"
		}
		cols = replaceOrAppend(cols, projection{Column{cp.name, cp.t}, sql})
	}
	return c.emitProjection(cols, in, "")
}

// captureFor is the regular expression group for a column of type t.
func captureFor(t Type, last bool) string {
	switch t {
	case Int, Long:
		return `([+-]?\d+)`
	case Real:
		return `([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)`
	case Bool:
		return `((?i:true|false))`
	}
	if last {
		return "(.*)"
	}
	return "(.*?)"
}

// sample returns up to n rows chosen at random. The choice is seeded, so the
// same query on the same data gives the same rows (Kusto's varies).
func (c *compiler) sample(op *parser.Sample, in *scope) (*scope, error) {
	n, err := c.constInt(op.Count, in)
	if err != nil {
		return nil, err
	}
	out := &scope{cols: in.cols}
	out.from = c.addCTE(fmt.Sprintf("SELECT *\nFROM %s\nUSING SAMPLE reservoir(%d ROWS) REPEATABLE (42)", in.from, n))
	return out, nil
}
