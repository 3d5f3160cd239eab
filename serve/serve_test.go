package serve_test

import (
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gather-crawler/gather/serve"
)

func get(t *testing.T, c *http.Client, u string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// slowSQL never ends by itself: only an interrupt stops it.
const slowSQL = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

// A statement running past the time limit is interrupted and reported,
// and meanwhile the server answers other requests at once.
func TestSQL_SlowQueryInterruptedWhileOthersAnswer(t *testing.T) {
	limit := time.Second
	srv, _ := startServer(t, bigDB(t, 20_000), serve.Options{QueryTimeout: limit})
	var wg sync.WaitGroup
	slowDone := make(chan struct{})
	var slowStatus int
	var slowBody string
	var slowTook time.Duration
	for _, path := range []string{"/sql?q=", "/sql/export?format=csv&q="} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			resp, err := http.Get(srv.URL + path + url.QueryEscape(slowSQL))
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.HasPrefix(path, "/sql?") {
				slowStatus, slowBody, slowTook = resp.StatusCode, string(b), time.Since(start)
				close(slowDone)
			} else if resp.StatusCode != http.StatusOK && !strings.Contains(string(b), "time limit") {
				t.Errorf("slow export: %d %s", resp.StatusCode, b)
			}
		}()
	}
	// While the slow ones run: other pages and statements, four at a time.
	time.Sleep(100 * time.Millisecond)
	var others sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	answered := 0
	for w := 0; w < 4; w++ {
		others.Add(1)
		go func() {
			defer others.Done()
			for i := 0; ; i++ {
				select {
				case <-slowDone:
					return
				default:
				}
				path := []string{"/data", "/data/big?sort=grp", "/sql?q=" + url.QueryEscape("SELECT count(*) FROM big")}[i%3]
				start := time.Now()
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				took := time.Since(start)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: %d", path, resp.StatusCode)
				}
				mu.Lock()
				slowest = max(slowest, took)
				answered++
				mu.Unlock()
			}
		}()
	}
	others.Wait()
	wg.Wait()
	if slowStatus != http.StatusBadRequest || !strings.Contains(slowBody, "stopped after the time limit of 1s") {
		t.Errorf("slow query: %d, want 400 and the time limit named in\n%s", slowStatus, slowBody)
	}
	if slowTook < limit || slowTook > limit+2*time.Second {
		t.Errorf("slow query took %s, want about %s", slowTook, limit)
	}
	if answered < 8 {
		t.Errorf("only %d other requests answered while the slow query ran", answered)
	}
	// Generous for a shared machine under -race; a blocked server would
	// take the whole second.
	if slowest > 700*time.Millisecond {
		t.Errorf("the slowest other request took %s while the slow query ran", slowest)
	}
	t.Logf("%d other requests answered meanwhile, slowest %s; slow query stopped after %s", answered, slowest, slowTook)
}

// Every route only reads: the database file is byte for byte the same
// after every page, export and attempted write, and other methods are
// refused.
func TestServe_WritesNothing(t *testing.T) {
	db := bigDB(t, 500)
	sum := func() [32]byte {
		b, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	before := sum()
	srv, _ := startServer(t, db, serve.Options{})
	for _, p := range []string{"/", "/runs/1", "/failures", "/data", "/data/big?facet=grp", "/export/big?format=json",
		"/sql?q=" + url.QueryEscape("DELETE FROM big"), "/sql?q=" + url.QueryEscape("UPDATE big SET grp = 0"),
		"/sql?q=" + url.QueryEscape("CREATE TABLE x (a)"), "/sql/export?q=" + url.QueryEscape("DROP TABLE big"),
		"/sql?q=" + url.QueryEscape("PRAGMA journal_mode = DELETE"), "/sql?q=" + url.QueryEscape("VACUUM"),
		"/sql?q=" + url.QueryEscape("ATTACH '"+db+"-x' AS x")} {
		get(t, http.DefaultClient, srv.URL+p)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		req, _ := http.NewRequest(m, srv.URL+"/sql?q=SELECT+1", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, want 405", m, resp.StatusCode)
		}
	}
	if _, err := os.Stat(db + "-x"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ATTACH made a file: %v", err)
	}
	if sum() != before {
		t.Error("the database file changed")
	}
	if st, err := os.Stat(db + "-wal"); err == nil && st.Size() > 0 {
		t.Errorf("the WAL holds %d bytes: something was written", st.Size())
	}
}

// Without a token only loopback names are answered (a page that rebinds
// its own name to 127.0.0.1 is refused); with one, every request needs it.
func TestServe_LoopbackAndToken(t *testing.T) {
	db := bigDB(t, 10)
	open, _ := startServer(t, db, serve.Options{})
	resp, _ := get(t, http.DefaultClient, open.URL+"/data")
	if resp.StatusCode != 200 {
		t.Fatalf("loopback: %d", resp.StatusCode)
	}
	for _, h := range []string{"localhost:8080", "[::1]:80"} {
		if resp, _ := get(t, http.DefaultClient, open.URL+"/data", "Host", h); resp.StatusCode != 200 {
			t.Errorf("Host %s: %d", h, resp.StatusCode)
		}
	}
	if resp, _ := get(t, http.DefaultClient, open.URL+"/data", "Host", "attacker.example:8080"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("Host attacker.example: %d, want 403", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}

	locked, _ := startServer(t, db, serve.Options{Token: "s3cret"})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct {
		name   string
		path   string
		header []string
		want   int
	}{
		{"no token", "/data", nil, http.StatusUnauthorized},
		{"wrong token", "/data?token=nope", nil, http.StatusUnauthorized},
		{"wrong bearer", "/data", []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
		{"bearer", "/data", []string{"Authorization", "Bearer s3cret", "Host", "gather.example:8080"}, http.StatusOK},
		{"cookie", "/data", []string{"Cookie", "gather_token=s3cret"}, http.StatusOK},
		{"token once", "/data?token=s3cret&x=1", nil, http.StatusSeeOther},
	} {
		resp, _ := get(t, noRedirect, locked.URL+c.path, c.header...)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
		}
		if c.want == http.StatusSeeOther {
			if loc := resp.Header.Get("Location"); loc != "/data?x=1" {
				t.Errorf("redirect to %q, want the URL without its token", loc)
			}
			if ck := resp.Header.Get("Set-Cookie"); !strings.Contains(ck, "gather_token=s3cret") || !strings.Contains(ck, "HttpOnly") {
				t.Errorf("cookie %q", ck)
			}
		}
	}
}

func TestCheckListen(t *testing.T) {
	for _, c := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:8080", "", true},
		{"[::1]:8080", "", true},
		{"localhost:8080", "", true},
		{":8080", "", false},
		{"0.0.0.0:8080", "", false},
		{"192.168.1.5:8080", "", false},
		{"0.0.0.0:8080", "t", true},
	} {
		err := serve.CheckListen(c.addr, c.token)
		if (err == nil) != c.ok {
			t.Errorf("CheckListen(%q, %q) = %v", c.addr, c.token, err)
		}
		if err != nil && !errors.Is(err, serve.ErrTokenRequired) {
			t.Errorf("CheckListen(%q): %v", c.addr, err)
		}
	}
}
