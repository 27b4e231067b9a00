package engine

// jsonIs is a SQL test of the kind of a JSON value — "ARRAY", "OBJECT",
// "STRING" or "NULL" — that reads only the value's first non-blank
// characters instead of parsing the whole value as json_type does. A valid
// JSON text starts with '[' exactly when it is an array, '{' when an
// object, '"' when a string, and is "null" when null. Hot paths
// (array_length, mv-expand) run it on every row of large Tasks and
// Comments arrays, where json_type doubled the cost of the query. An
// anchored regular expression stops at the first character; ltrim would
// copy the whole value first. SQL NULL gives NULL.
func jsonIs(x, kind string) string {
	first := map[string]string{"ARRAY": `\[`, "OBJECT": `\{`, "STRING": `"`, "NULL": `null`}[kind]
	if first == "" {
		return "(json_type(" + x + ") = '" + kind + "')"
	}
	return "regexp_matches(CAST(" + x + " AS VARCHAR), " + QuoteString(`^[ \t\n\r]*`+first) + ")"
}
