// Package web serves the agent console: the dashboard a contact-center supervisor
// keeps open all day. It is hand-written HTML, CSS and JavaScript modules embedded
// in the binary; there is no build step and nothing to install.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// static holds the console. Everything but index.html lives under assets/.
//
//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every response. Scripts and styles come only
// from the console itself (no inline code, no eval); the live connection may use
// ws: and wss: to the same host; member avatars may be https images.
const ContentSecurityPolicy = "default-src 'none'; " +
	"script-src 'self'; " +
	"style-src 'self'; " +
	"img-src 'self' data: https:; " +
	"font-src 'self'; " +
	"connect-src 'self' ws: wss:; " +
	"manifest-src 'self'; " +
	"base-uri 'none'; " +
	"form-action 'self'; " +
	"frame-ancestors 'none'"

// Cache policies. index.html and unversioned assets are revalidated on every use
// (cheap: each has an ETag). Assets requested under the current build's
// /assets/v-<hash>/ prefix never change, so browsers may keep them for a year.
const (
	cacheRevalidate = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
)

// asset is one embedded file, ready to serve.
type asset struct {
	name        string
	body        []byte
	etag        string
	contentType string
}

// handler serves the console from memory.
type handler struct {
	index   *asset
	files   map[string]*asset // by path without the leading slash, e.g. "assets/app.css"
	version string            // "v-" + a hash of every file: the immutable asset prefix
}

// Handler returns the console: index.html for / and for any other path that is not
// an asset (the UI keeps its state in the query string), the files under /assets/,
// and 404 for a missing asset. Only GET and HEAD are served.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("web: embedded console is missing: " + err.Error()) // the embed directive guarantees it
	}
	h, err := newHandler(sub)
	if err != nil {
		panic("web: " + err.Error())
	}
	return h
}

// newHandler loads every file of fsys and rewrites index.html so that its asset
// URLs carry the build's version prefix. ES module imports are relative, so the
// modules a versioned app.js imports are versioned too.
func newHandler(fsys fs.FS) (*handler, error) {
	h := &handler{files: map[string]*asset{}}
	all := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		sum := sha256.Sum256(body)
		fmt.Fprintf(all, "%s\x00%x\x00", p, sum)
		h.files[p] = &asset{
			name:        p,
			body:        body,
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
			contentType: contentType(p),
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load console: %w", err)
	}
	index, ok := h.files["index.html"]
	if !ok {
		return nil, fmt.Errorf("load console: index.html is missing")
	}
	h.version = "v-" + hex.EncodeToString(all.Sum(nil)[:6])
	body := bytes.ReplaceAll(index.body, []byte(`"/assets/`), []byte(`"/assets/`+h.version+`/`))
	sum := sha256.Sum256(body)
	h.index = &asset{
		name:        "index.html",
		body:        body,
		etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		contentType: index.contentType,
	}
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: the console only answers GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if p == "/" || p == "/index.html" {
		serve(w, r, h.index, cacheRevalidate)
		return
	}
	name := strings.TrimPrefix(p, "/")
	cache := cacheRevalidate
	if rest, ok := strings.CutPrefix(name, "assets/v-"); ok {
		// A versioned asset: strip the version. A stale version (an old page after
		// a deploy) still gets today's file, but must not be cached as immutable.
		ver, file, found := strings.Cut(rest, "/")
		if found {
			if "v-"+ver == h.version {
				cache = cacheImmutable
			}
			name = "assets/" + file
		}
	}
	if a, ok := h.files[name]; ok && name != "index.html" {
		serve(w, r, a, cache)
		return
	}
	if isAssetPath(name) {
		w.Header().Set("Cache-Control", cacheRevalidate)
		http.Error(w, "not found: no such console asset", http.StatusNotFound)
		return
	}
	// Any other path is the app (a bookmarked or mistyped UI URL): the console
	// reads its state from the query string and shows itself.
	serve(w, r, h.index, cacheRevalidate)
}

// isAssetPath reports whether a missing file should be a 404 rather than the app:
// anything under assets/ and anything that looks like a file (favicon.ico, x.js).
func isAssetPath(name string) bool {
	return strings.HasPrefix(name, "assets/") || path.Ext(name) != ""
}

func serve(w http.ResponseWriter, r *http.Request, a *asset, cache string) {
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("Cache-Control", cache)
	hdr.Set("ETag", a.etag)
	// ServeContent answers If-None-Match with 304 and handles HEAD and ranges.
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}

func setSecurityHeaders(hdr http.Header) {
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer") // a ?token= URL must never leak
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// contentType pins the types of the console's files, so a host's /etc/mime.types
// cannot change how a browser treats a module script.
func contentType(name string) string {
	switch ext := strings.ToLower(path.Ext(name)); ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".json":
		return "application/json"
	case ".webmanifest":
		return "application/manifest+json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".txt":
		return "text/plain; charset=utf-8"
	default:
		if ct := mime.TypeByExtension(ext); ct != "" {
			return ct
		}
		return "application/octet-stream"
	}
}
