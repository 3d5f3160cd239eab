package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mattn/go-sqlite3"
	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/output"
	"github.com/gather-crawler/gather/storage"
)

// dbFlags choose the database of query and runs: --db, else the config's.
type dbFlags struct {
	cfgFile string
	db      string
	format  string
	cmd     *cobra.Command // to tell --db "" from no --db
}

func (f *dbFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	cmd.Flags().StringVarP(&f.cfgFile, "config", "c", "", "config whose database to read (default $GATHER_CONFIG, else ./config.yaml)")
	cmd.Flags().StringVar(&f.db, "db", "", "SQLite file to read (instead of the config's)")
	cmd.Flags().StringVar(&f.format, "format", "", "output: table, csv, json or jsonl (default table on a terminal, else csv)")
}

func (f *dbFlags) path() (string, error) {
	if f.cmd.Flags().Changed("db") {
		if err := config.CheckDatabasePath(f.db); err != nil {
			return "", usagef("--db: %v", err)
		}
		return f.db, nil
	}
	cfg, err := config.Load(configPath(f.cfgFile))
	if err != nil {
		return "", fmt.Errorf("%w (or pass --db)", err)
	}
	return cfg.Database, nil
}

func (f *dbFlags) outputFormat(w io.Writer) (string, error) {
	if f.format == "" {
		if isTerminal(w) {
			return output.Table, nil
		}
		return output.CSV, nil
	}
	if err := output.Check(f.format); err != nil {
		return "", usagef("--format: %v", err)
	}
	return f.format, nil
}

func newQueryCmd() *cobra.Command {
	f := &dbFlags{}
	cmd := &cobra.Command{
		Use:   "query [-c FILE | --db PATH] [--format table|csv|json|jsonl] SQL",
		Short: "Run one read-only SQL statement and print the rows",
		Long: `query runs one read-only statement (SELECT, or WITH … SELECT) against the
database and streams its rows. Anything that could modify the database or
touch another file is refused. SQL "-" reads the statement from stdin.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := strings.Join(args, " ")
			if q == "-" {
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return err
				}
				q = string(b)
			}
			return printQuery(cmd.Context(), f, cmd.OutOrStdout(), func(r *storage.Reader) (*sql.Rows, error) {
				return r.Query(cmd.Context(), q)
			})
		},
	}
	f.register(cmd)
	return cmd
}

// printQuery opens the database read-only, runs query on it and prints
// the rows in the chosen format.
func printQuery(ctx context.Context, f *dbFlags, out io.Writer, query func(*storage.Reader) (*sql.Rows, error)) error {
	format, err := f.outputFormat(out)
	if err != nil {
		return err
	}
	path, err := f.path()
	if err != nil {
		return err
	}
	r, err := storage.OpenReader(ctx, path)
	if err != nil {
		return err
	}
	defer r.Close()
	rows, err := query(r)
	if err != nil {
		return sqlError(err)
	}
	defer rows.Close()
	if _, err := output.Write(out, format, rows); err != nil {
		return sqlError(r.Explain(ctx, err))
	}
	return nil
}

// sqlError makes mistakes in the SQL itself usage errors (exit 2), and
// keeps I/O and locking trouble runtime errors.
func sqlError(err error) error {
	var se sqlite3.Error
	if errors.Is(err, storage.ErrReadOnly) || (errors.As(err, &se) && se.Code == sqlite3.ErrError) ||
		strings.HasPrefix(err.Error(), "no such table") {
		return usageError{err}
	}
	return err
}

func newRunsCmd() *cobra.Command {
	f := &dbFlags{}
	var limit int
	cmd := &cobra.Command{
		Use:   "runs [-c FILE | --db PATH] [--format FORMAT] [--limit N]",
		Short: "List past runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return usagef("--limit must not be negative")
			}
			return printQuery(cmd.Context(), f, cmd.OutOrStdout(), func(r *storage.Reader) (*sql.Rows, error) {
				return r.RunHistory(cmd.Context(), limit)
			})
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&limit, "limit", 20, "show the newest N runs (0: all)")
	return cmd
}
