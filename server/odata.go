package server

import (
	"cmp"
	"slices"
	"strings"

	"github.com/socq/socq/incident"
)

// The OData subset GET /incidents understands, as Sentinel's clients write
// it: $filter is terms joined by "and"; a term is
//
//	properties/FIELD eq 'VALUE'      (also ne)
//	(TERM or TERM …)                 alternatives on one field
//
// with FIELD status, severity, owner/assignedTo, owner/email,
// owner/userPrincipalName or owner/objectId. Values compare
// case-insensitively. $orderby is "properties/FIELD [asc|desc]" with FIELD
// createdTimeUtc, lastModifiedTimeUtc, incidentNumber, severity, status or
// title.

// filter is a parsed $filter: every group must match; a group matches when
// any of its terms does.
type filter [][]filterTerm

type filterTerm struct {
	field string // "status", "severity", "owner/email", …
	ne    bool
	value string
}

var filterFields = []string{"status", "severity", "owner/assignedTo", "owner/email", "owner/userPrincipalName", "owner/objectId"}

func (f filter) match(inc *incident.ListEntry) bool {
	for _, group := range f {
		ok := false
		for _, t := range group {
			if t.match(inc) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (t filterTerm) match(inc *incident.ListEntry) bool {
	var v *string
	switch t.field {
	case "status":
		v = &inc.Status
	case "severity":
		v = &inc.Severity
	case "owner/assignedTo":
		v = inc.Owner.AssignedTo
	case "owner/email":
		v = inc.Owner.Email
	case "owner/userPrincipalName":
		v = inc.Owner.UserPrincipalName
	case "owner/objectId":
		v = inc.Owner.ObjectID
	}
	eq := v != nil && strings.EqualFold(*v, t.value) || v == nil && t.value == ""
	return eq != t.ne
}

// narrowing is a ListFilter that keeps every incident f matches (and maybe
// more): the statuses and severities of a group of "eq" terms on one of
// those fields alone, so that the database reads only those incidents.
func (f filter) narrowing() incident.ListFilter {
	lf := incident.ListFilter{All: true}
	for _, group := range f {
		field, values := "", []string{}
		for _, t := range group {
			if t.ne || (field != "" && t.field != field) {
				field = ""
				break
			}
			field = t.field
			values = append(values, t.value)
		}
		switch {
		case field == "status" && lf.Statuses == nil:
			lf.Statuses = values
		case field == "severity" && lf.Severities == nil:
			lf.Severities = values
		}
	}
	return lf
}

// filterLexer splits $filter text into words, quoted strings and parentheses.
type filterLexer struct {
	text string
	pos  int
}

// next returns the next token; quoted strings come back with their quotes
// removed and quoted=true. "" at the end.
func (l *filterLexer) next() (tok string, quoted bool, err error) {
	for l.pos < len(l.text) && l.text[l.pos] == ' ' {
		l.pos++
	}
	if l.pos >= len(l.text) {
		return "", false, nil
	}
	switch c := l.text[l.pos]; {
	case c == '(' || c == ')':
		l.pos++
		return string(c), false, nil
	case c == '\'':
		var b strings.Builder
		for i := l.pos + 1; i < len(l.text); i++ {
			if l.text[i] == '\'' {
				if i+1 < len(l.text) && l.text[i+1] == '\'' { // '' is a quote
					b.WriteByte('\'')
					i++
					continue
				}
				l.pos = i + 1
				return b.String(), true, nil
			}
			b.WriteByte(l.text[i])
		}
		return "", false, badRequest("$filter", "$filter: the string starting at character %d is not closed with '", l.pos+1)
	}
	start := l.pos
	for l.pos < len(l.text) && !strings.ContainsRune(" ()'", rune(l.text[l.pos])) {
		l.pos++
	}
	return l.text[start:l.pos], false, nil
}

func parseFilter(text string) (filter, error) {
	var f filter
	l := &filterLexer{text: strings.TrimSpace(text)}
	if l.text == "" {
		return nil, nil
	}
	for {
		tok, _, err := l.next()
		if err != nil {
			return nil, err
		}
		var group []filterTerm
		if tok == "(" {
			for {
				t, err := parseTerm(l, "")
				if err != nil {
					return nil, err
				}
				group = append(group, t)
				tok, _, err = l.next()
				if err != nil {
					return nil, err
				}
				if tok == ")" {
					break
				}
				if !strings.EqualFold(tok, "or") {
					return nil, badRequest("$filter", "$filter: expected 'or' or ')' at character %d, got %q", l.pos, tok)
				}
			}
		} else {
			t, err := parseTerm(l, tok)
			if err != nil {
				return nil, err
			}
			group = []filterTerm{t}
		}
		f = append(f, group)
		tok, _, err = l.next()
		if err != nil {
			return nil, err
		}
		if tok == "" {
			return f, nil
		}
		if !strings.EqualFold(tok, "and") {
			return nil, badRequest("$filter", "$filter: expected 'and' at character %d, got %q (alternatives go in parentheses: (A or B))", l.pos, tok)
		}
	}
}

// parseTerm reads "properties/FIELD eq 'VALUE'"; first is the field token
// when the caller has read it already.
func parseTerm(l *filterLexer, first string) (filterTerm, error) {
	var err error
	if first == "" {
		if first, _, err = l.next(); err != nil {
			return filterTerm{}, err
		}
	}
	field, ok := strings.CutPrefix(first, "properties/")
	idx := slices.IndexFunc(filterFields, func(f string) bool { return strings.EqualFold(f, field) })
	if !ok || idx < 0 {
		return filterTerm{}, badRequest("$filter", "$filter: %q: the fields that filter are properties/%s", first, strings.Join(filterFields, ", properties/"))
	}
	op, _, err := l.next()
	if err != nil {
		return filterTerm{}, err
	}
	if !strings.EqualFold(op, "eq") && !strings.EqualFold(op, "ne") {
		return filterTerm{}, badRequest("$filter", "$filter: %s %q: the operators are eq and ne", first, op)
	}
	value, quoted, err := l.next()
	if err != nil {
		return filterTerm{}, err
	}
	if !quoted {
		return filterTerm{}, badRequest("$filter", "$filter: %s %s %s: the value must be a quoted string, like 'New'", first, op, value)
	}
	return filterTerm{field: filterFields[idx], ne: strings.EqualFold(op, "ne"), value: value}, nil
}

// orderBy is a parsed $orderby.
type orderBy struct {
	field string
	desc  bool
}

var orderFields = []string{"createdTimeUtc", "lastModifiedTimeUtc", "incidentNumber", "severity", "status", "title"}

func parseOrderBy(text string) (orderBy, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return orderBy{field: "incidentNumber", desc: true}, nil
	}
	parts := strings.Fields(text)
	field, ok := strings.CutPrefix(parts[0], "properties/")
	idx := slices.IndexFunc(orderFields, func(f string) bool { return strings.EqualFold(f, field) })
	if !ok || idx < 0 || len(parts) > 2 {
		return orderBy{}, badRequest("$orderby", "$orderby: %q: want properties/FIELD [asc|desc] with FIELD one of %s", text, strings.Join(orderFields, ", "))
	}
	o := orderBy{field: orderFields[idx]}
	if len(parts) == 2 {
		switch strings.ToLower(parts[1]) {
		case "asc":
		case "desc":
			o.desc = true
		default:
			return orderBy{}, badRequest("$orderby", "$orderby: %q: the direction is asc or desc", parts[1])
		}
	}
	return o, nil
}

// severityRank orders severities from Informational to High.
func severityRank(s string) int {
	return slices.Index([]string{"Informational", "Low", "Medium", "High"}, s)
}

func statusRank(s string) int { return slices.Index(incident.Statuses, s) }

// sort orders incidents; ties go by incident number, newest first.
func (o orderBy) sort(incs []incident.ListEntry) {
	slices.SortStableFunc(incs, func(a, b incident.ListEntry) int {
		var c int
		switch o.field {
		case "createdTimeUtc":
			c = a.CreatedTime.Compare(b.CreatedTime.Time)
		case "lastModifiedTimeUtc":
			c = a.LastModifiedTime.Compare(b.LastModifiedTime.Time)
		case "incidentNumber":
			c = cmp.Compare(a.Number, b.Number)
		case "severity":
			c = cmp.Compare(severityRank(a.Severity), severityRank(b.Severity))
		case "status":
			c = cmp.Compare(statusRank(a.Status), statusRank(b.Status))
		case "title":
			c = strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
		}
		if o.desc {
			c = -c
		}
		if c == 0 {
			c = cmp.Compare(b.Number, a.Number)
		}
		return c
	})
}
