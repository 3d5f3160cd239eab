package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/schedule"
	"github.com/gather-crawler/gather/storage"
)

func newScheduleCmd(g *globals) *cobra.Command {
	var (
		files  []string
		listen string
		lease  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "schedule -c FILE [-c FILE ...] [--listen 127.0.0.1:PORT]",
		Short: "Run each config's crawl on its schedule, in the foreground",
		Long: `schedule runs each config's crawl on its schedule.cron, until SIGINT or
SIGTERM. A job never runs twice at once: a run that would overlap is skipped
and logged, and a database lease keeps other processes (another schedule, a
manual crawl) from running the same job. On a signal no new run starts,
running crawls stop cleanly (their pages resume at the next run) and
schedule exits 0. --listen serves /healthz and Prometheus /metrics.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				files = []string{configPath("")}
			}
			if lease < time.Second {
				return usagef("--lease must be at least 1s")
			}
			var cfgs []*config.Config
			for _, f := range files {
				cfg, err := config.Load(f)
				if err != nil {
					return err
				}
				cfgs = append(cfgs, cfg)
			}
			logger, err := g.logger(g.stderr, slog.LevelInfo)
			if err != nil {
				return err
			}
			metrics := schedule.NewMetrics()
			s, err := schedule.New(cfgs, schedule.Options{Logger: logger, Metrics: metrics, Lease: storage.LeaseOptions{TTL: lease}})
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if listen != "" {
				stop, err := serveMetrics(ctx, listen, metrics, logger)
				if err != nil {
					return err
				}
				defer stop()
			}
			return s.Run(ctx)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "config", "c", nil, "config of a job to schedule (repeat for more; default $GATHER_CONFIG, else ./config.yaml)")
	cmd.Flags().StringVar(&listen, "listen", "", "serve /healthz and /metrics on this address, e.g. 127.0.0.1:9464")
	cmd.Flags().DurationVar(&lease, "lease", 30*time.Second, "how long a job's database lease lasts unrenewed (another process takes over a dead one's job after this)")
	return cmd
}

// serveMetrics serves /healthz and /metrics until the returned func is
// called, which shuts the server down and waits for it.
func serveMetrics(ctx context.Context, addr string, m *schedule.Metrics, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usagef("--listen %s: %v", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "error", err)
		}
	}()
	log.Info("serving /healthz and /metrics", "address", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		wg.Wait()
	}, nil
}
