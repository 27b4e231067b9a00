package engine

import (
	"fmt"

	"github.com/socq/socq/parser"
)

// The KQL math functions: round, abs, ceiling, sign, log, exp, sqrt, pow.

// realFunction makes a one-argument function of a real, given as a template.
func realFunction(template string) function {
	return function{minArgs: 1, maxArgs: 1, compile: func(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
		x, err := realArg(call, args, 0)
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: reuse([]string{x.sql}, func(v []string) string { return "(" + fmt.Sprintf(template, v[0]) + ")" }), t: Real}, nil
	}}
}

// numberArg is argument i as a long (for whole numbers) or a real.
func numberArg(call *parser.Call, args []texpr, i int) (texpr, error) {
	switch x := args[i]; x.t {
	case Int, Long:
		return convert(x, Long), nil
	}
	return realArg(call, args, i)
}

// round rounds half away from zero to a number of decimal digits (negative
// digits round to tens, hundreds, ...); whole numbers stay whole.
func roundFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	x, err := numberArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	digits := "0"
	if len(args) == 2 {
		d, err := longArg(call, args, 1)
		if err != nil {
			return texpr{}, err
		}
		digits = "TRY_CAST(" + d.sql + " AS INTEGER)"
	}
	return texpr{sql: "try(round(" + x.sql + ", " + digits + "))", t: x.t}, nil
}

func absFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	x := args[0]
	if x.t != Timespan {
		var err error
		if x, err = numberArg(call, args, 0); err != nil {
			return texpr{}, err
		}
	}
	return texpr{sql: "try(abs(" + x.sql + "))", t: x.t}, nil
}

func ceilingFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	x, err := numberArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	if x.t == Long {
		return x, nil
	}
	return texpr{sql: "ceil(" + x.sql + ")", t: Real}, nil
}

func signFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	x, err := numberArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "CAST(sign(" + x.sql + ") AS " + x.t.SQLType() + ")", t: x.t}, nil
}

func powFunc(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	base, err := realArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	exponent, err := realArg(call, args, 1)
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "pow(" + base.sql + ", " + exponent.sql + ")", t: Real}, nil
}

// realTest is isnan, isinf or isfinite of a number (as a real).
func realTest(fn string) func(*compiler, *parser.Call, []texpr) (texpr, error) {
	return func(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
		x, err := realArg(call, args, 0)
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: fn + "(" + x.sql + ")", t: Bool}, nil
	}
}

// toHex is tohex(n [, minLength]): n in lowercase hexadecimal (two's
// complement for a negative n), left-padded with zeros to minLength.
func toHex(_ *compiler, call *parser.Call, args []texpr) (texpr, error) {
	n, err := longArg(call, args, 0)
	if err != nil {
		return texpr{}, err
	}
	hexSQL := "lower(hex(" + n.sql + "))"
	if len(args) == 2 {
		width, err := longArg(call, args, 1)
		if err != nil {
			return texpr{}, err
		}
		hexSQL = reuse([]string{hexSQL, width.sql}, func(v []string) string {
			return "lpad(" + v[0] + ", CAST(greatest(" + v[1] + ", length(" + v[0] + ")) AS INTEGER), '0')"
		})
	}
	return texpr{sql: hexSQL, t: String}, nil
}
