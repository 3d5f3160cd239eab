package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
)

func newValidateCmd(g *globals) *cobra.Command {
	var cfgFile string
	cmd := &cobra.Command{
		Use:   "validate [-c FILE]",
		Short: "Check a config and print what it would crawl; sends no request",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath(cfgFile))
			if err != nil {
				return err
			}
			// Load reads ids_file only up to its first id; validate reads
			// all of it, so that a line a crawl would skip is found first.
			fileIDs, err := cfg.CheckIDsFile()
			if err != nil {
				return err
			}
			describe(cmd.OutOrStdout(), cfg, fileIDs, time.Now())
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgFile, "config", "c", "", "config file (default $GATHER_CONFIG, else ./config.yaml)")
	return cmd
}

// describe prints what a valid config would do; fileIDs is how many ids
// its ids_file holds.
func describe(w io.Writer, cfg *config.Config, fileIDs int64, now time.Time) {
	cr := cfg.Crawl
	fmt.Fprintf(w, "%s: ok\n", cfg.File)
	fmt.Fprintf(w, "job       %s\n", cr.Name)
	fmt.Fprintf(w, "database  %s\n", cfg.Database)
	st := cr.Start
	if len(st.URLs) > 0 {
		fmt.Fprintf(w, "start     %s\n", plural(int64(len(st.URLs)), "URL", "URLs"))
		for i, u := range st.URLs {
			if i == 3 {
				fmt.Fprintf(w, "          …\n")
				break
			}
			fmt.Fprintf(w, "          %s\n", u)
		}
	}
	if st.URLTemplate != "" {
		fmt.Fprintf(w, "template  %s\n", st.URLTemplate)
		tmpl, _ := config.ParseTemplate(st.URLTemplate)
		if len(st.IDs) > 0 {
			first, _ := tmpl.Fill(st.IDs[0])
			fmt.Fprintf(w, "ids       %d listed, first %s\n", len(st.IDs), first)
		}
		if st.IDsFile != "" {
			fmt.Fprintf(w, "ids_file  %s: %s (streamed)\n", st.IDsFile, plural(fileIDs, "id", "ids"))
		}
	}
	hosts := cr.AllowedDomains
	if len(hosts) == 0 {
		hosts = cfg.StartHosts()
	}
	fmt.Fprintf(w, "domains   %s\n", strings.Join(hosts, ", "))
	fmt.Fprintf(w, "limits    parallelism %d per host, timeout %s, retries %d, max body %s, delay %s", cr.Parallelism, cr.Timeout, cr.Retries, cr.MaxBodySize, cr.Delay)
	if cr.RandomDelay > 0 {
		fmt.Fprintf(w, " + up to %s", cr.RandomDelay)
	}
	fmt.Fprintf(w, ", robots.txt %s\n", map[bool]string{true: "obeyed", false: "ignored"}[cr.RobotsTxt])
	if cr.MaxDepth > 1 {
		fmt.Fprintf(w, "follow    %d levels deep:", cr.MaxDepth-1)
		for _, f := range cr.Follow {
			fmt.Fprintf(w, " %s", f.CSS)
			if f.Match != "" {
				fmt.Fprintf(w, " (matching %s)", f.Match)
			}
		}
		fmt.Fprintln(w)
	}
	if cr.RefreshAfter > 0 {
		fmt.Fprintf(w, "refresh   pages stored more than %s ago\n", cr.RefreshAfter)
	}
	for _, name := range cfg.ItemOrder {
		it := cfg.Items[name]
		var parts []string
		switch {
		case it.Each.CSS != "":
			parts = append(parts, "each css "+it.Each.CSS)
		case it.Each.XPath != "":
			parts = append(parts, "each xpath "+it.Each.XPath)
		case it.Each.JSON != "":
			p := "each json " + it.Each.JSON
			if it.Each.Items != "" {
				p += " → " + it.Each.Items
			}
			parts = append(parts, p)
		}
		fmt.Fprintf(w, "item      %s (%s) key (%s)", name, strings.Join(it.FieldOrder, ", "), strings.Join(it.Key, ", "))
		if len(parts) > 0 {
			fmt.Fprintf(w, ", %s", strings.Join(parts, ", "))
		}
		fmt.Fprintln(w)
	}
	if cfg.Schedule.Cron != "" {
		sched, err := cfg.CronSchedule(now)
		if err == nil {
			loc := time.Local
			if cfg.Schedule.Timezone != "" {
				if l, err := time.LoadLocation(cfg.Schedule.Timezone); err == nil {
					loc = l
				}
			}
			fmt.Fprintf(w, "schedule  %s; next runs:\n", cfg.Schedule.Cron)
			t := now.In(loc)
			for i := 0; i < 5; i++ {
				t = sched.Next(t)
				fmt.Fprintf(w, "          %s\n", t.Format("2006-01-02 15:04:05 MST"))
			}
		}
	}
}
