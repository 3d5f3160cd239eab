package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every environment override: GATHER_CRAWL_PARALLELISM=32
// sets crawl.parallelism.
const EnvPrefix = "GATHER"

// defaults are applied under the file's values. Every crawl key is listed so
// that viper also looks up its environment override.
var defaults = map[string]any{
	"database":                    "gather.db",
	"frontier":                    "",
	"crawl.name":                  "",
	"crawl.start.urls":            []string{},
	"crawl.start.url_template":    "",
	"crawl.start.ids":             []string{},
	"crawl.start.ids_file":        "",
	"crawl.allowed_domains":       []string{},
	"crawl.parallelism":           16,
	"crawl.concurrency":           0,
	"crawl.delay":                 "0s",
	"crawl.random_delay":          "0s",
	"crawl.timeout":               "30s",
	"crawl.retries":               3,
	"crawl.max_body_size":         "10MB",
	"crawl.extract_timeout":       "10s",
	"crawl.max_value_size":        "1MB",
	"crawl.user_agent":            "",
	"crawl.proxy":                 []string{},
	"crawl.robots_txt":            true,
	"crawl.max_depth":             1,
	"crawl.refresh_after":         "0s",
	"crawl.hub_refresh_after":     "0s",
	"crawl.content_types":         []string{},
	"crawl.retry_failed_after":    "0s",
	"crawl.retry_gone_after":      "24h",
	"crawl.retry_failed_runs":     10,
	"crawl.canonical.drop_query":  []string{},
	"crawl.canonical.sort_query":  false,
	"crawl.fetch":                 FetchHTTP,
	"crawl.browser.path":          "",
	"crawl.browser.tabs":          2,
	"crawl.browser.recycle_after": 500,
	"crawl.browser.wait_for":      "",
	"schedule.cron":               "",
	"schedule.timezone":           "",
	"schedule.jitter":             "0s",
}

// Load reads, overrides from the environment, normalizes and validates the
// config at path. Every problem is reported as an *Error naming the file and
// key path; the returned error wraps ErrInvalid when the config is at fault.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read config: %v", unwrapPathError(err))}
	}
	return ParseEnviron(path, data, os.Environ())
}

// ParseEnviron is Parse with the environment given as os.Environ gives it:
// besides applying the overrides, it refuses a GATHER_ variable that names
// no key (a misspelled override would otherwise be ignored silently).
func ParseEnviron(path string, data []byte, environ []string) (*Config, error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return parse(path, data, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, env)
}

// Parse is Load for config bytes already in memory; lookupEnv supplies the
// environment (os.LookupEnv, or a map in tests).
func Parse(path string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	return parse(path, data, lookupEnv, nil)
}

// parse is Parse; env, when not nil, is the whole environment, whose
// GATHER_ variables must each name a key.
func parse(path string, data []byte, lookupEnv func(string) (string, bool), env map[string]string) (*Config, error) {
	order, nameErrs, err := keyOrder(path, data)
	if err != nil {
		return nil, err
	}

	v := viper.New()
	v.SetConfigType("yaml")
	for k, val := range defaults {
		v.SetDefault(k, val)
	}
	for k, val := range archiveDefaults {
		v.SetDefault(k, val)
	}
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot parse YAML: %v%s", err, yamlHint(err))}
	}
	// Environment overrides are applied by hand rather than with AutomaticEnv
	// so that tests can pass their own environment and every override is
	// checked against a key that exists.
	known := applyEnv(v, lookupEnv)
	unlimitedDepth(v)

	var cfg Config
	hook := mapstructure.ComposeDecodeHookFunc(durationHook, byteSizeHook, eachHook, fieldHook, stringSliceHook)
	all := append(nameErrs, unknownEnv(path, env, known)...)
	if err := v.UnmarshalExact(&cfg, viper.DecodeHook(hook)); err != nil {
		all = append(all, decodeErrors(path, err)...)
	}
	cfg.File = path
	cfg.ItemOrder = order.items
	for name, it := range cfg.Items {
		it.FieldOrder = order.fields[name]
		cfg.Items[name] = it
	}
	cfg.normalize()
	if err := cfg.Validate(); err != nil {
		// A key that failed to decode holds its zero value; don't report
		// that zero as a second problem.
		decoded := all
		for _, e := range err.(Errors) {
			if !decoded.hasKey(e.Key) {
				all = append(all, e)
			}
		}
	}
	if len(all) > 0 {
		return nil, all
	}
	return &cfg, nil
}

// unlimitedDepth reads max_depth: unlimited (from the file or the
// environment) as MaxDepthUnlimited; any other text is left to fail
// decoding, naming the key.
func unlimitedDepth(v *viper.Viper) {
	if s, ok := v.Get("crawl.max_depth").(string); ok && strings.EqualFold(strings.TrimSpace(s), "unlimited") {
		v.Set("crawl.max_depth", MaxDepthUnlimited)
	}
}

// applyEnv sets every GATHER_* variable that names a known key, and
// returns the names of all those variables.
func applyEnv(v *viper.Viper, lookupEnv func(string) (string, bool)) map[string]bool {
	known := map[string]bool{}
	for _, key := range v.AllKeys() {
		name := EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		known[name] = true
		if val, ok := lookupEnv(name); ok {
			v.Set(key, val)
		}
	}
	return known
}

// Settings are the GATHER_ variables that are not config keys: where the
// config is, gather serve's token, and the test suite's switches.
var Settings = []string{"GATHER_CONFIG", "GATHER_SERVE_TOKEN", "GATHER_FIXTURES", "GATHER_REQUIRE_FIXTURES", "GATHER_REQUIRE_BROWSER",
	"GATHER_REQUIRE_PROMETHEUS", "GATHER_REQUIRE_REDIS", "GATHER_SCREENSHOTS", "GATHER_TEST_EXEC", "GATHER_PYDOC", "GATHER_PYDOC_STRIDE",
	"GATHER_WARCIO_DIR", "GATHER_REPLAYWEBPAGE_DIR", "GATHER_REQUIRE_WARCIO",
	"GATHER_REQUIRE_PROXIES", "GATHER_REQUIRE_INSTALL",
	"GATHER_CHAOS_FULL", "GATHER_REQUIRE_TMPFS"}

// unknownEnv reports each GATHER_ variable of env that names no key, with
// the likeliest key it was meant for.
func unknownEnv(path string, env map[string]string, known map[string]bool) Errors {
	var errs Errors
	for name := range env {
		if !strings.HasPrefix(name, EnvPrefix+"_") || known[name] || slices.Contains(Settings, name) {
			continue
		}
		best, bestD := "", 4
		for k := range known {
			if d := editDistance(name, k); d < bestD || (d == bestD && k < best) {
				best, bestD = k, d
			}
		}
		msg := "this environment variable names no config key"
		if best != "" {
			msg += " (did you mean " + best + "?)"
		} else {
			msg += "; overrides are GATHER_ and the key path in upper case with _ for ., e.g. GATHER_CRAWL_PARALLELISM"
		}
		errs = append(errs, &Error{File: path, Key: name, Msg: msg})
	}
	slices.SortFunc(errs, func(a, b *Error) int { return strings.Compare(a.Key, b.Key) })
	return errs
}

// order is the order items and fields were written in the YAML, which viper's
// maps forget.
type order struct {
	items  []string
	fields map[string][]string
}

// keyOrder reads the YAML a second time as nodes, for the order of items and
// fields and for names exactly as written (viper lowercases keys).
func keyOrder(path string, data []byte) (order, Errors, error) {
	o := order{fields: map[string][]string{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return o, nil, &Error{File: path, Msg: fmt.Sprintf("cannot parse YAML: %v%s", err, yamlHint(err))}
	}
	if len(root.Content) == 0 {
		return o, nil, &Error{File: path, Msg: "the file is empty"}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return o, nil, &Error{File: path, Msg: "the top level must be a mapping of keys (database, crawl, items, schedule)"}
	}
	var p problems
	p.file = path
	items := mapValue(doc, "items")
	if items == nil || items.Kind != yaml.MappingNode {
		return o, nil, nil
	}
	for i := 0; i+1 < len(items.Content); i += 2 {
		name := items.Content[i].Value
		if !identRe.MatchString(name) {
			p.add("items."+name, "item name %q is not a plain identifier (want [a-z_][a-z0-9_]*)", name)
			continue
		}
		o.items = append(o.items, name)
		fields := mapValue(items.Content[i+1], "fields")
		if fields == nil || fields.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(fields.Content); j += 2 {
			f := fields.Content[j].Value
			if !identRe.MatchString(f) {
				p.add("items."+name+".fields."+f, "field name %q is not a plain identifier (want [a-z_][a-z0-9_]*)", f)
				continue
			}
			o.fields[name] = append(o.fields[name], f)
		}
	}
	return o, p.errs, nil
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	byteSizeType = reflect.TypeOf(ByteSize(0))
	eachType     = reflect.TypeOf(Each{})
	fieldType    = reflect.TypeOf(Field{})
)

// durationHook accepts "10s"-style strings only: a bare number would silently
// mean nanoseconds.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch d := data.(type) {
	case string:
		if strings.TrimSpace(d) == "0" {
			return time.Duration(0), nil
		}
		v, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil {
			return nil, fmt.Errorf("invalid duration %q (want e.g. 500ms, 30s, 6h)", d)
		}
		return v, nil
	case int, int64, float64:
		if reflect.ValueOf(d).IsZero() {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("duration %v has no unit (write e.g. %vs)", d, d)
	case time.Duration:
		return d, nil
	}
	return nil, fmt.Errorf("invalid duration %v (want e.g. 500ms, 30s, 6h)", data)
}

func byteSizeHook(from, to reflect.Type, data any) (any, error) {
	if to != byteSizeType {
		return data, nil
	}
	switch d := data.(type) {
	case string:
		return ParseByteSize(d)
	case int:
		return ByteSize(d), nil
	case int64:
		return ByteSize(d), nil
	case float64:
		return ByteSize(d), nil
	}
	return nil, fmt.Errorf("invalid size %v (want e.g. 10MB)", data)
}

// eachHook lets `each` be a bare CSS selector.
func eachHook(from, to reflect.Type, data any) (any, error) {
	if to != eachType {
		return data, nil
	}
	if s, ok := data.(string); ok {
		return map[string]any{"css": s}, nil
	}
	return data, nil
}

// fieldHook lets a field be a bare CSS selector: `title: "h1"`.
func fieldHook(from, to reflect.Type, data any) (any, error) {
	if to != fieldType {
		return data, nil
	}
	if s, ok := data.(string); ok {
		return map[string]any{"css": s}, nil
	}
	return data, nil
}

// stringSliceHook splits an environment value such as "tt1,tt2" into a list.
func stringSliceHook(from, to reflect.Type, data any) (any, error) {
	if to.Kind() != reflect.Slice || to.Elem().Kind() != reflect.String {
		return data, nil
	}
	s, ok := data.(string)
	if !ok {
		return data, nil
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
	return parts, nil
}

var ()

// decodeErrors turns mapstructure's errors into key-path errors.
func decodeErrors(path string, err error) Errors {
	var p problems
	p.file = path
	var walk func(error)
	walk = func(e error) {
		switch x := e.(type) {
		case interface{ Unwrap() []error }:
			for _, sub := range x.Unwrap() {
				walk(sub)
			}
			return
		case *mapstructure.DecodeError:
			if x.Unwrap() == nil {
				break
			}
			msg := x.Unwrap().Error()
			if keys, ok := strings.CutPrefix(msg, "has invalid keys: "); ok {
				for _, k := range strings.Split(keys, ", ") {
					key := k
					if x.Name() != "" {
						key = keyPath(x.Name()) + "." + k
					}
					p.add(key, "unknown key%s", suggest(key))
				}
				return
			}
			p.add(keyPath(x.Name()), "%s", cleanDecodeMsg(msg))
			return
		}
		if u := errors.Unwrap(e); u != nil {
			walk(u)
			return
		}
		p.add("", "%s", e.Error())
	}
	walk(err)
	return p.errs
}

// keyPath turns mapstructure's items[cast].fields[q] into items.cast.fields.q.
func keyPath(name string) string {
	return strings.NewReplacer("[", ".", "]", "").Replace(name)
}

func cleanDecodeMsg(s string) string {
	s = strings.TrimPrefix(s, "error decoding: ")
	return s
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// resolve makes p relative to the config file's directory.
func (c *Config) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}

// normalize fills defaults that depend on other values.
func (c *Config) normalize() {
	if c.Crawl.Name == "" && c.File != "" {
		base := filepath.Base(c.File)
		c.Crawl.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	c.Database = c.resolve(c.Database)
	c.Crawl.Start.IDsFile = c.resolve(c.Crawl.Start.IDsFile)
	c.normalizeArchive()
	for name, it := range c.Items {
		if len(it.FieldOrder) == 0 {
			for f := range it.Fields {
				it.FieldOrder = append(it.FieldOrder, f)
			}
			sort.Strings(it.FieldOrder)
		}
		if len(it.Key) == 0 {
			it.Key = []string{KeyURL}
			if !it.Each.IsZero() {
				it.Key = append(it.Key, KeyIndex)
			}
		}
		// A field written as {} or with no value at all (the each
		// element itself) may be missing from Fields: it is a zero Field.
		if it.Fields == nil && len(it.FieldOrder) > 0 {
			it.Fields = map[string]Field{}
		}
		for _, f := range it.FieldOrder {
			if _, ok := it.Fields[f]; !ok {
				it.Fields[f] = Field{}
			}
		}
		for f, fd := range it.Fields {
			if fd.Type == "" && fd.hasNumberStep() {
				fd.Type = TypeReal
				it.Fields[f] = fd
			}
			if fd.Type == "" {
				fd.Type = TypeText
				it.Fields[f] = fd
			}
		}
		c.Items[name] = it
	}
	if len(c.ItemOrder) == 0 {
		for name := range c.Items {
			c.ItemOrder = append(c.ItemOrder, name)
		}
		sort.Strings(c.ItemOrder)
	}
}
