// Package gather holds the files shipped with the gather command: the
// default config.yaml and the classic-layout example, embedded so that
// `gather demo` works from any directory.
package gather

import _ "embed"

// DefaultConfig is the shipped config.yaml: IMDB full-credits pages in
// today's layout.
//
//go:embed config.yaml
var DefaultConfig []byte

// ClassicConfig is examples/imdb-classic.yaml: the classic table layout.
//
//go:embed examples/imdb-classic.yaml
var ClassicConfig []byte
