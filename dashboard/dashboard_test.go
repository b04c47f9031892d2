package dashboard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// get serves one request through Handler and returns the response and
// its body.
func get(t *testing.T, method, target string, header http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the body of %s %s: %v", method, target, err)
	}
	return res, string(b)
}

// linked returns the URL the page links for an asset path, with its
// version query.
func linked(t *testing.T, page, path string) string {
	t.Helper()
	m := regexp.MustCompile(`"(` + regexp.QuoteMeta(path) + `\?v=[0-9a-f]{16})"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("got a page without a versioned link to %s, want one", path)
	}
	return m[1]
}

func TestHandlerServesFiles(t *testing.T) {
	_, page := get(t, http.MethodGet, "/", nil)
	jsURL := "/" + linked(t, page, "assets/app.js")
	cssURL := "/" + linked(t, page, "assets/style.css")
	diskJS, err := os.ReadFile("assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	diskCSS, err := os.ReadFile("assets/style.css")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target      string
		contentType string
		cache       string
		body        string // "" checks the page's markers instead
	}{
		{"/", "text/html; charset=utf-8", cacheRevalidate, ""},
		{"/index.html", "text/html; charset=utf-8", cacheRevalidate, ""},
		{"/assets/app.js", "text/javascript; charset=utf-8", cacheRevalidate, string(diskJS)},
		{jsURL, "text/javascript; charset=utf-8", cacheImmutable, string(diskJS)},
		{"/assets/style.css", "text/css; charset=utf-8", cacheRevalidate, string(diskCSS)},
		{cssURL, "text/css; charset=utf-8", cacheImmutable, string(diskCSS)},
		{"/assets/style.css?v=0000000000000000", "text/css; charset=utf-8", cacheRevalidate, string(diskCSS)},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			res, body := get(t, http.MethodGet, tt.target, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("got status %d, want 200", res.StatusCode)
			}
			for _, h := range []struct{ name, want string }{
				{"Content-Type", tt.contentType},
				{"Cache-Control", tt.cache},
				{"Content-Security-Policy", ContentSecurityPolicy},
				{"X-Content-Type-Options", "nosniff"},
			} {
				if got := res.Header.Get(h.name); got != h.want {
					t.Errorf("got %s %q, want %q", h.name, got, h.want)
				}
			}
			if res.Header.Get("ETag") == "" {
				t.Error("got no ETag, want one")
			}
			if tt.body != "" && body != tt.body {
				t.Errorf("got a %d-byte body, want the %d bytes of the file on disk", len(body), len(tt.body))
			}
			if tt.body == "" {
				for _, s := range []string{"<!DOCTYPE html>", `<script src="assets/app.js?v=`, `<link rel="stylesheet" href="assets/style.css?v=`, `id="models"`} {
					if !strings.Contains(body, s) {
						t.Errorf("got a page without %q, want it", s)
					}
				}
			}
		})
	}
}

func TestHandlerNotFoundAndMethods(t *testing.T) {
	tests := []struct {
		method, target string
		status         int
	}{
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodGet, "/assets/", http.StatusNotFound},
		{http.MethodGet, "/assets/index.html", http.StatusNotFound},
		{http.MethodGet, "/assets/app.js/", http.StatusNotFound},
		{http.MethodGet, "/assets/../dashboard.go", http.StatusNotFound},
		{http.MethodGet, "/favicon.ico", http.StatusNotFound},
		{http.MethodGet, "/v1/models", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/assets/app.js", http.StatusMethodNotAllowed},
		{http.MethodHead, "/", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			res, body := get(t, tt.method, tt.target, nil)
			if res.StatusCode != tt.status {
				t.Fatalf("got status %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("got Content-Security-Policy %q, want %q", got, ContentSecurityPolicy)
			}
			switch tt.status {
			case http.StatusMethodNotAllowed:
				if got := res.Header.Get("Allow"); got != "GET, HEAD" {
					t.Errorf("got Allow %q, want \"GET, HEAD\"", got)
				}
			case http.StatusOK: // HEAD
				if body != "" {
					t.Errorf("got a %d-byte body for HEAD, want none", len(body))
				}
			}
		})
	}
}

func TestHandlerConditionalGet(t *testing.T) {
	for _, target := range []string{"/", "/assets/app.js", "/assets/style.css"} {
		t.Run(target, func(t *testing.T) {
			first, _ := get(t, http.MethodGet, target, nil)
			etag := first.Header.Get("ETag")
			res, body := get(t, http.MethodGet, target, http.Header{"If-None-Match": {etag}})
			if res.StatusCode != http.StatusNotModified || body != "" {
				t.Errorf("got status %d and %d bytes for If-None-Match %s, want 304 and none", res.StatusCode, len(body), etag)
			}
		})
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
		"base-uri 'none'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"} {
		if !strings.Contains(ContentSecurityPolicy, want) {
			t.Errorf("got a policy without %q, want it: %s", want, ContentSecurityPolicy)
		}
	}
	if strings.Contains(ContentSecurityPolicy, "unsafe-") {
		t.Errorf("got an unsafe- source in the policy, want none: %s", ContentSecurityPolicy)
	}
}

// TestAssetsStayLocal checks the page, script and style sheet load nothing
// from outside and put no markup from data into the DOM.
func TestAssetsStayLocal(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(`)
	unsafeJS := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setTimeout\(['"]`)
	inline := regexp.MustCompile(`(?i)<script>|<script[^>]*>[^<]|<style|\sstyle=|\son[a-z]+=`)
	for _, name := range []string{"index.html", "app.js", "style.css"} {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			t.Fatalf("got no embedded %s: %v", name, err)
		}
		text := string(b)
		// The SVG namespace is an identifier, not a request.
		text = strings.ReplaceAll(text, "http://www.w3.org/2000/svg", "")
		if m := external.FindString(text); m != "" {
			t.Errorf("%s: got %q, want no reference outside the origin", name, m)
		}
		if m := unsafeJS.FindString(text); m != "" {
			t.Errorf("%s: got %q, want text nodes and setAttribute only", name, m)
		}
		if name == "index.html" {
			if m := inline.FindString(text); m != "" {
				t.Errorf("index.html: got %q, want no inline script, style or handler (the CSP blocks them)", m)
			}
		}
	}
}
