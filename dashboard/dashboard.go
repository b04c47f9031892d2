// Package dashboard serves the monitoring dashboard of `normguard serve`:
// one HTML page, its script and its style sheet, embedded in the binary so
// the page works offline and loads nothing from outside (no CDN).
//
// The page reads the service's JSON API with relative URLs (same origin):
//
//	GET v1/models                                    models and their versions
//	GET v1/models/{name}/drift?stage=S&plots=1       current window vs profile, with plots
//	GET v1/models/{name}/history?stage=S             past windows, oldest first
//
// and draws SVG: the model list with versions, a per-feature table, each
// feature's drift over the history windows against its threshold and its
// reference-vs-current distribution. It refreshes every 10 seconds. Every
// string from the API reaches the DOM as text (textContent, setAttribute),
// never as markup; the Content-Security-Policy forbids inline and foreign
// scripts and, where the browser supports Trusted Types, any HTML sink.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

//go:embed assets/index.html assets/app.js assets/style.css
var assets embed.FS

// ContentSecurityPolicy is the Content-Security-Policy header of every
// response: scripts, styles and API calls from this origin only, no
// inline script or style, no plugins, no framing, no <base> rewriting,
// no form posts, and Trusted Types required for DOM XSS sinks (innerHTML
// and friends throw; the page uses none of them).
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// Cache-Control values. The page and unversioned asset URLs are
// revalidated on every load (cheap: they carry an ETag); the page links
// its assets with ?v=<content hash>, and those URLs never change content.
const (
	cacheRevalidate = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
)

// asset is one embedded file ready to serve.
type asset struct {
	body        []byte
	contentType string
	version     string // first 16 hex digits of the sha256 of body
}

// routes maps request paths to what they serve; built once by newRoutes.
var routes = newRoutes()

// newRoutes reads the embedded files and links the page to its assets by
// content hash. A missing file is a build mistake, so it panics at start.
func newRoutes() map[string]*asset {
	read := func(name, contentType string) *asset {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			panic(fmt.Sprintf("dashboard: embedded asset %s is missing: %v", name, err))
		}
		sum := sha256.Sum256(b)
		return &asset{body: b, contentType: contentType, version: hex.EncodeToString(sum[:8])}
	}
	js := read("app.js", "text/javascript; charset=utf-8")
	css := read("style.css", "text/css; charset=utf-8")
	page := read("index.html", "text/html; charset=utf-8")
	for _, ref := range []struct {
		path string
		a    *asset
	}{{"assets/app.js", js}, {"assets/style.css", css}} {
		quoted := []byte(`"` + ref.path + `"`)
		if !bytes.Contains(page.body, quoted) {
			panic("dashboard: index.html does not link " + ref.path)
		}
		page.body = bytes.ReplaceAll(page.body, quoted, []byte(`"`+ref.path+"?v="+ref.a.version+`"`))
	}
	sum := sha256.Sum256(page.body)
	page.version = hex.EncodeToString(sum[:8])
	return map[string]*asset{
		"/":                 page,
		"/index.html":       page,
		"/assets/app.js":    js,
		"/assets/style.css": css,
	}
}

// Handler returns the dashboard's handler, to be mounted at "/": it serves
// the page at "/" and "/index.html", its script and style sheet under
// "/assets/", and 404 for every other path. Only GET and HEAD are allowed
// (405 otherwise). Every response carries ContentSecurityPolicy,
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and
// X-Frame-Options: DENY; files carry an ETag and answer If-None-Match
// with 304.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")

	a, ok := routes[r.URL.Path]
	if !ok {
		http.Error(w, "404 page not found: the dashboard is at /", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed: the dashboard answers GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", `"`+a.version+`"`)
	if strings.HasPrefix(r.URL.Path, "/assets/") && r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheRevalidate)
	}
	// A zero modification time: no Last-Modified, the ETag decides.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
