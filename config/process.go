package config

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Step is one value processor of a field's process list: what the field's
// source and regex matched goes through the steps in order, before the
// value is converted to the field's type.
type Step struct {
	// Name is one of the Steps keys.
	Name string
	// Args are the step's arguments as text: replace has [from, to];
	// trim (optional), split, join, default and date one; number one
	// (the decimal mark) or none.
	Args []string
}

// stepSpec is what a step takes: its arguments' count (min, max) and what
// to tell someone who wrote it wrong.
type stepSpec struct {
	min, max int
	usage    string
}

// Steps are the value processors, by name.
var Steps = map[string]stepSpec{
	"trim":    {0, 1, `trim, or {trim: "chars"} (white space, or those characters, at either end)`},
	"replace": {2, 2, `{replace: [from, to]} (every from, as written, becomes to)`},
	"split":   {0, 1, `split, or {split: ";"} (one value per part; default separator ",")`},
	"join":    {0, 1, `join, or {join: " / "} (one value of all of them; default separator ", ")`},
	"lower":   {0, 0, `lower`},
	"upper":   {0, 0, `upper`},
	"default": {1, 1, `{default: value} (used when no value is left)`},
	"first":   {0, 0, `first`},
	"number":  {0, 1, `number, or {number: ","} (the decimal mark; default ".")`},
	"date":    {1, 1, `{date: "January 2, 2006"} (the layout, written as Go writes the reference date Mon Jan 2 15:04:05 MST 2006)`},
}

func stepNames() string {
	names := make([]string, 0, len(Steps))
	for n := range Steps {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// StepError is a step of a process list that cannot be used.
type StepError struct {
	Index int
	Msg   string
}

func (e *StepError) Error() string { return fmt.Sprintf("process[%d]: %s", e.Index, e.Msg) }

// ParseSteps reads a field's process list as YAML gives it: each step is
// a name ("trim") or a mapping of one name to its argument ({split: ";"},
// {replace: [",", ""]}). Every step that cannot be used is reported.
func ParseSteps(raw []any) ([]Step, []*StepError) {
	var steps []Step
	var errs []*StepError
	for i, r := range raw {
		st, err := parseStep(r)
		if err != nil {
			errs = append(errs, &StepError{Index: i, Msg: err.Error()})
			continue
		}
		steps = append(steps, st)
	}
	return steps, errs
}

func parseStep(r any) (Step, error) {
	var st Step
	var arg any
	hasArg := false
	switch x := r.(type) {
	case string:
		st.Name = x
	case map[string]any:
		if len(x) != 1 {
			return st, fmt.Errorf("a step is a name, or a mapping of one name to its argument (e.g. {split: \";\"}), not %d keys", len(x))
		}
		for k, v := range x {
			st.Name, arg, hasArg = k, v, true
		}
	default:
		return st, fmt.Errorf("a step is a name such as trim, or a mapping such as {replace: [\",\", \"\"]}, not %v", r)
	}
	spec, ok := Steps[st.Name]
	if !ok {
		best, bestD := "", 3
		for n := range Steps {
			if d := editDistance(st.Name, n); d < bestD || (d == bestD && n < best) {
				best, bestD = n, d
			}
		}
		hint := ""
		if best != "" {
			hint = " (did you mean " + best + "?)"
		}
		return st, fmt.Errorf("unknown step %q%s; steps are %s", st.Name, hint, stepNames())
	}
	if hasArg {
		switch a := arg.(type) {
		case []any:
			for _, v := range a {
				if !plainValue(v) {
					return st, fmt.Errorf("arguments must be plain values; want %s", spec.usage)
				}
				st.Args = append(st.Args, fmt.Sprint(v))
			}
		case nil:
			if st.Name == "default" {
				return st, fmt.Errorf("a default must be a value (null is no value); want %s", spec.usage)
			}
		default:
			if !plainValue(a) {
				return st, fmt.Errorf("arguments must be plain values; want %s", spec.usage)
			}
			st.Args = []string{fmt.Sprint(a)}
		}
	}
	if len(st.Args) < spec.min || len(st.Args) > spec.max {
		return st, fmt.Errorf("%s takes %s; want %s", st.Name, argCount(spec), spec.usage)
	}
	switch st.Name {
	case "replace":
		if st.Args[0] == "" {
			return st, fmt.Errorf("replace's from must not be empty; want %s", spec.usage)
		}
	case "number":
		if len(st.Args) == 1 && st.Args[0] != "." && st.Args[0] != "," {
			return st, fmt.Errorf("the decimal mark is \".\" or \",\", not %q", st.Args[0])
		}
	case "date":
		if err := CheckDateLayout(st.Args[0]); err != nil {
			return st, err
		}
	case "split":
		if len(st.Args) == 1 && st.Args[0] == "" {
			return st, fmt.Errorf("split's separator must not be empty")
		}
	}
	return st, nil
}

// CheckDateLayout refuses a date layout that is not written as Go writes
// the reference time, such as strftime's %Y-%m-%d: formatting a date
// with it would print the layout back unchanged.
func CheckDateLayout(layout string) error {
	ref := time.Date(2011, 11, 12, 13, 14, 15, 0, time.UTC)
	if strings.TrimSpace(layout) == "" || ref.Format(layout) == layout {
		return fmt.Errorf("date layout %q has no part of a date: write the layout as Go writes the reference date, Mon Jan 2 15:04:05 MST 2006 (e.g. \"January 2, 2006\" for March 3, 2020, \"02/01/2006\" for 03/03/2020)", layout)
	}
	if strings.Contains(layout, "%") {
		return fmt.Errorf("date layout %q looks like strftime's; write it as Go writes the reference date, Mon Jan 2 15:04:05 MST 2006 (%%Y-%%m-%%d is 2006-01-02)", layout)
	}
	return nil
}

func plainValue(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

func argCount(s stepSpec) string {
	switch {
	case s.min == s.max && s.min == 0:
		return "no argument"
	case s.min == s.max && s.min == 1:
		return "one argument"
	case s.min == s.max:
		return fmt.Sprintf("%d arguments", s.min)
	}
	return fmt.Sprintf("%d to %d arguments", s.min, s.max)
}

// IsList reports whether the field's values are stored as a JSON array:
// with all: true, or a split step, unless a later join or first makes one
// value of them.
func (f Field) IsList() bool {
	list := f.All
	steps, _ := ParseSteps(f.Process)
	for _, s := range steps {
		switch s.Name {
		case "split":
			list = true
		case "join", "first":
			list = false
		}
	}
	return list
}

// hasNumberStep reports whether a number step is among the field's steps:
// its type then defaults to real.
func (f Field) hasNumberStep() bool {
	steps, _ := ParseSteps(f.Process)
	for _, s := range steps {
		if s.Name == "number" {
			return true
		}
	}
	return false
}
