package serve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/serve"
)

// The JSON export prints a json field's values as JSON arrays, not as
// strings holding JSON; the CSV export keeps their text.
func TestServe_ExportListsAreLists(t *testing.T) {
	site, err := demo.New(demo.Options{}).Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	cfg := demoConfig(t, t.TempDir(), site, 1, 3, 2, "0s")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := newCrawler(t, cfg).Run(ctx); err != nil {
		t.Fatal(err)
	}
	srv, _ := startServer(t, cfg.Database, serve.Options{})
	resp, body := get(t, http.DefaultClient, srv.URL+"/export/cast?format=json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(body), &rows); err != nil || len(rows) == 0 {
		t.Fatalf("%v: %.300s", err, body)
	}
	for _, r := range rows {
		if r["characters"] == nil {
			continue
		}
		if _, ok := r["characters"].([]any); !ok {
			t.Fatalf("characters is %#v, want a JSON array", r["characters"])
		}
		return
	}
	t.Fatalf("no row has characters: %.300s", body)
}
