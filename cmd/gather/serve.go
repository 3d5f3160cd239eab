package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/serve"
	"github.com/gather-crawler/gather/storage"
)

// tokenEnv holds the token when --token is not given, so that it need not
// appear in the process list.
const tokenEnv = "GATHER_SERVE_TOKEN"

func newServeCmd(g *globals) *cobra.Command {
	f := &dbFlags{}
	var listen, token string
	cmd := &cobra.Command{
		Use:   "serve [-c FILE | --db PATH] [--listen 127.0.0.1:8080] [--token T] [--timeout 5s]",
		Short: "Serve a read-only web page of the runs, failures and data",
		Long: `serve shows the database in a browser: the run history with the progress of
a running crawl, failures grouped by reason, every table with sorting,
filters, facets and CSV/JSON export, and a read-only SQL box whose
statements stop after --timeout. Nothing can be written through it.

It listens on 127.0.0.1 unless --listen says otherwise; an address other
machines can reach needs --token (or ` + tokenEnv + `), and every request
must then carry it (?token=… once in the browser, or an Authorization:
Bearer header). SIGINT or SIGTERM stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if token == "" {
				token = os.Getenv(tokenEnv)
			}
			if err := serve.CheckListen(listen, token); err != nil {
				return usagef("--listen %s: %v", listen, err)
			}
			if f.timeout <= 0 {
				return usagef("--timeout must be positive")
			}
			path, err := f.path()
			if err != nil {
				return err
			}
			setStopNote("stopping the server")
			defer setStopNote("")
			logger, err := g.logger(g.stderr, slog.LevelInfo)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			r, err := storage.OpenReader(ctx, path)
			if err != nil {
				return err
			}
			defer r.Close()
			h, err := serve.New(serve.Options{Reader: r, Logger: logger, Token: token, QueryTimeout: f.timeout})
			if err != nil {
				return err
			}
			stop, addr, err := serveHTTP(listen, h, logger)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "serving %s on http://%s/ (Ctrl-C stops)\n", path, addr)
			<-ctx.Done()
			stop()
			return nil
		},
	}
	f.cmd = cmd
	cmd.Flags().StringVarP(&f.cfgFile, "config", "c", "", "config whose database to show (default $GATHER_CONFIG, else ./config.yaml)")
	cmd.Flags().StringVar(&f.db, "db", "", "SQLite file to show (instead of the config's)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", serve.DefaultQueryTimeout, "stop a statement of the SQL box after this long")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().StringVar(&token, "token", "", "token every request must carry (default $"+tokenEnv+"); required off loopback")
	return cmd
}

// serveHTTP serves h on addr until the returned func is called, which
// shuts the server down gracefully and waits for it. It returns the
// address actually bound (for ":0").
func serveHTTP(addr string, h http.Handler, log *slog.Logger) (func(), string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", usagef("--listen %s: %v", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "error", err)
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			// Requests still going after the grace period (a long export)
			// are cut off.
			srv.Close()
		}
		wg.Wait()
	}, ln.Addr().String(), nil
}
