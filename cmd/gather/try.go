package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/output"
	"github.com/gather-crawler/gather/storage"
)

// errPageNotOK makes `gather try` exit 1 when the page would not be stored,
// after everything about it has been printed.
var errPageNotOK = errors.New("the page would not be stored")

func newTryCmd(g *globals) *cobra.Command {
	var (
		cfgFile, format, pageURL string
		rows                     int
	)
	cmd := &cobra.Command{
		Use:   "try [-c FILE] URL|FILE",
		Short: "Fetch one page (or read a saved one) and print what the items take from it; writes nothing",
		Long: `try runs the config's items on one page and prints the rows each item
takes, the page's fate (ok, or why it would fail or be skipped), which
fields matched and every warning: the quickest loop for writing a config.
A URL is fetched as a crawl fetches it (user agent, headers, robots.txt,
allowed domains, the private-address guard, the body limit and the fetch
policy); a FILE is read as if served from --url. No database is written.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != output.Table && format != output.JSON {
				return usagef("--format: %q is not table or json", format)
			}
			cfg, err := config.Load(configPath(cfgFile))
			if err != nil {
				return err
			}
			logger, err := g.logger(g.stderr, 0)
			if err != nil {
				return err
			}
			c, err := crawler.New(cfg, nil, crawler.Options{Logger: logger})
			if err != nil {
				return err
			}
			var res *crawler.TryResult
			target := args[0]
			if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
				if pageURL != "" {
					return usagef("--url applies to a FILE only")
				}
				res, err = c.Try(cmd.Context(), target)
			} else {
				if _, serr := os.Stat(target); serr != nil {
					return usagef("%s is neither an http(s) URL nor a readable file: %v", target, serr)
				}
				res, err = c.TryFile(target, pageURL)
			}
			if err != nil {
				return err
			}
			out := bufio.NewWriter(cmd.OutOrStdout())
			if format == output.JSON {
				err = writeTryJSON(out, cfg, res)
			} else {
				err = writeTryTable(out, cfg, res, rows)
			}
			if ferr := out.Flush(); err == nil {
				err = ferr
			}
			if err == nil && res.Status != storage.PageOK {
				return errPageNotOK
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&cfgFile, "config", "c", "", "config file (default $GATHER_CONFIG, else ./config.yaml)")
	cmd.Flags().StringVar(&format, "format", output.Table, "output format: table or json")
	cmd.Flags().StringVar(&pageURL, "url", "", "for a FILE: the URL it was saved from (items' url patterns and relative links use it)")
	cmd.Flags().IntVar(&rows, "rows", 20, "table format: rows shown per item (0: all)")
	return cmd
}

func writeTryTable(w io.Writer, cfg *config.Config, res *crawler.TryResult, maxRows int) error {
	fmt.Fprintf(w, "page  %s\n", res.URL)
	fate := res.Status
	if res.HTTPStatus != 0 {
		fate += fmt.Sprintf(" (HTTP %d, %d bytes)", res.HTTPStatus, res.Bytes)
	}
	if res.Reason != "" {
		fate += ": " + res.Reason
	}
	fmt.Fprintf(w, "fate  %s\n", fate)
	if res.Result == nil {
		return nil
	}
	for _, ir := range res.Result.Items {
		it := cfg.Items[ir.Name]
		if !ir.Active {
			fmt.Fprintf(w, "\n%s: not applied (url pattern %q does not match)\n", ir.Name, it.URL)
			continue
		}
		fmt.Fprintf(w, "\n%s: %s\n", ir.Name, plural(int64(len(ir.Records)), "record", "records"))
		if len(ir.Records) > 0 {
			cols := append([]string{}, it.FieldOrder...)
			withIndex := !it.Each.IsZero()
			if withIndex {
				cols = append([]string{config.KeyIndex}, cols...)
			}
			shown := ir.Records
			if maxRows > 0 && len(shown) > maxRows {
				shown = shown[:maxRows]
			}
			data := make([][]any, len(shown))
			for i, r := range shown {
				row := append([]any{}, r.Values...)
				if withIndex {
					row = append([]any{int64(r.Index)}, row...)
				}
				data[i] = row
			}
			if _, err := output.Write(w, output.Table, &sliceRows{cols: cols, rows: data}); err != nil {
				return err
			}
			if len(shown) < len(ir.Records) {
				fmt.Fprintf(w, "… %d more (--rows 0 shows all)\n", len(ir.Records)-len(shown))
			}
		}
		for i, f := range it.FieldOrder {
			st := ir.Fields[i]
			switch {
			case st.Failed > 0:
				fmt.Fprintf(w, "  field %-20s %d values did not convert to %s (e.g. %s)\n", f, st.Failed, it.Fields[f].Type, st.Example)
			case !st.Matched:
				fmt.Fprintf(w, "  field %-20s matched nothing — check items.%s.fields.%s\n", f, ir.Name, f)
			}
		}
	}
	if warns := tryWarnings(res); len(warns) > 0 {
		fmt.Fprintln(w, "\nwarnings")
		for _, m := range warns {
			fmt.Fprintf(w, "  %s\n", m)
		}
	}
	if cfg.Crawl.MaxDepth > 1 {
		fmt.Fprintf(w, "\nlinks to follow: %d\n", len(res.Result.Links))
		for i, l := range res.Result.Links {
			if maxRows > 0 && i == maxRows {
				fmt.Fprintf(w, "  … %d more\n", len(res.Result.Links)-i)
				break
			}
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	return nil
}

// tryJSON is the --format json shape of a try.
type tryJSON struct {
	URL        string                         `json:"url"`
	Status     string                         `json:"status"`
	Reason     string                         `json:"reason"`
	HTTPStatus int                            `json:"http_status"`
	Bytes      int                            `json:"bytes"`
	Items      map[string][]map[string]any    `json:"items"`
	Fields     map[string]map[string]tryField `json:"fields"`
	Warnings   []string                       `json:"warnings"`
	Links      []string                       `json:"links"`
}

// tryField is how one field fared. Every key of a try's JSON is always
// present, empty when there is nothing to say, so scripts need not test
// for it.
type tryField struct {
	Matched bool   `json:"matched"`
	Failed  int    `json:"failed"`
	Example string `json:"example"`
	Dropped int    `json:"dropped"`
}

// tryWarnings are the page's warnings, then what a crawl would warn of at
// its end had it read this page alone.
func tryWarnings(res *crawler.TryResult) []string {
	out := []string{}
	if res.Result != nil {
		out = append(out, res.Result.Warnings...)
	}
	return append(out, res.Warnings...)
}

func writeTryJSON(w io.Writer, cfg *config.Config, res *crawler.TryResult) error {
	out := tryJSON{URL: res.URL, Status: res.Status, Reason: res.Reason, HTTPStatus: res.HTTPStatus, Bytes: res.Bytes,
		Items: map[string][]map[string]any{}, Fields: map[string]map[string]tryField{}, Warnings: tryWarnings(res), Links: []string{}}
	if r := res.Result; r != nil {
		if r.Links != nil {
			out.Links = r.Links
		}
		for _, ir := range r.Items {
			if !ir.Active {
				continue
			}
			it := cfg.Items[ir.Name]
			recs := make([]map[string]any, len(ir.Records))
			for i, rec := range ir.Records {
				m := map[string]any{}
				if !it.Each.IsZero() {
					m[config.KeyIndex] = rec.Index
				}
				for j, f := range it.FieldOrder {
					m[f] = rec.Values[j]
					if s, ok := rec.Values[j].(string); ok && (it.Fields[f].Type == config.TypeJSON || it.Fields[f].IsList()) && json.Valid([]byte(s)) {
						m[f] = json.RawMessage(s) // shown as JSON, not as a string holding JSON
					}
				}
				recs[i] = m
			}
			out.Items[ir.Name] = recs
			fields := map[string]tryField{}
			for j, f := range it.FieldOrder {
				st := ir.Fields[j]
				fields[f] = tryField{Matched: st.Matched, Failed: st.Failed, Example: st.Example, Dropped: st.Dropped}
			}
			out.Fields[ir.Name] = fields
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// sliceRows serves rows held in memory to output.Write.
type sliceRows struct {
	cols []string
	rows [][]any
	i    int
}

func (s *sliceRows) Columns() ([]string, error) { return s.cols, nil }
func (s *sliceRows) Next() bool                 { s.i++; return s.i <= len(s.rows) }
func (s *sliceRows) Err() error                 { return nil }
func (s *sliceRows) Scan(dest ...any) error {
	for i, v := range s.rows[s.i-1] {
		*dest[i].(*any) = v
	}
	return nil
}
