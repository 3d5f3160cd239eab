package archive_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/gather-crawler/gather/crawler/archive"
)

// A client whose transport is a Capture archives each exchange when its
// body is closed; the location Write returns reads the response back.
func Example() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<title>Café</title>")
	}))
	defer site.Close()

	dir, _ := os.MkdirTemp("", "archive")
	defer os.RemoveAll(dir)
	w, err := archive.NewWriter(archive.Options{Dir: dir, Software: "example/1.0", Job: "example"})
	if err != nil {
		log.Fatal(err)
	}
	var last archive.Written
	client := &http.Client{Transport: &archive.Capture{Done: func(ex *archive.Exchange) {
		if last, err = w.Write(ex); err != nil {
			log.Print(err)
		}
	}}}
	resp, err := client.Get(site.URL + "/page")
	if err != nil {
		log.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	rec, err := archive.ReadAt(dir, last.Response)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Type, rec.StatusCode, rec.Header.Get("Content-Type"))
	fmt.Println(string(rec.Body))

	for e, err := range archive.Scan(dir) {
		if err != nil {
			log.Print(err) // a damaged part: reported, skipped
			continue
		}
		fmt.Println(e.Location == last.Response)
	}
	// Output:
	// response 200 text/html; charset=utf-8
	// <title>Café</title>
	// true
}
