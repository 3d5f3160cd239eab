package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every validation error, so callers can tell a bad
// config (exit code 2) from a runtime failure with errors.Is.
var ErrInvalid = errors.New("invalid config")

// Error is one problem in a config: the file, the key path and what is wrong.
type Error struct {
	File string // config file, "" when built in code
	Key  string // key path such as items.cast.fields.name.css
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

// Errors is every problem found in one config, in key order.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// hasKey reports whether a problem was already found at key or below it.
func (es Errors) hasKey(key string) bool {
	for _, e := range es {
		if e.Key == key || (key != "" && strings.HasPrefix(e.Key, key+".")) {
			return true
		}
	}
	return false
}

// problems collects validation errors for one file.
type problems struct {
	file string
	errs Errors
}

func (p *problems) add(key, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return p.errs
}
