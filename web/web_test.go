package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// get serves one request through Handler and returns the response and its body.
func get(t testing.TB, h http.Handler, method, target string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", method, target, err)
	}
	return res, string(body)
}

// embedded returns the console's files as the handler sees them.
func embedded(t testing.TB) fs.FS {
	t.Helper()
	sub, err := fs.Sub(static, "static")
	if err != nil {
		t.Fatalf("fs.Sub: %v", err)
	}
	return sub
}

func readEmbedded(t testing.TB, name string) string {
	t.Helper()
	b, err := fs.ReadFile(embedded(t), name)
	if err != nil {
		t.Fatalf("read embedded %s: %v", name, err)
	}
	return string(b)
}

func TestIndex(t *testing.T) {
	h := Handler()
	for _, target := range []string{"/", "/index.html", "/?account=ACC1", "/?account=ACC1&session=abc"} {
		res, body := get(t, h, http.MethodGet, target, nil)
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("GET %s: status %d, want %d", target, got, want)
		}
		if got, want := res.Header.Get("Content-Type"), "text/html; charset=utf-8"; got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", target, got, want)
		}
		if got, want := res.Header.Get("Cache-Control"), "no-cache"; got != want {
			t.Errorf("GET %s: Cache-Control %q, want %q", target, got, want)
		}
		if got := res.Header.Get("ETag"); got == "" {
			t.Errorf("GET %s: no ETag", target)
		}
		if !strings.Contains(body, `id="session-list"`) {
			t.Errorf("GET %s: body is not the console's index.html", target)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := Handler()
	for _, target := range []string{"/", "/assets/app.css", "/assets/missing.js"} {
		res, _ := get(t, h, http.MethodGet, target, nil)
		csp := res.Header.Get("Content-Security-Policy")
		if csp != ContentSecurityPolicy {
			t.Errorf("GET %s: Content-Security-Policy %q, want %q", target, csp, ContentSecurityPolicy)
		}
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self' ws: wss:", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", target, csp, want)
			}
		}
		for _, bad := range []string{"unsafe-inline", "unsafe-eval"} {
			if strings.Contains(csp, bad) {
				t.Errorf("GET %s: CSP %q allows %s", target, csp, bad)
			}
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("GET %s: %s %q, want %q", target, k, got, want)
			}
		}
	}
}

func TestAssets(t *testing.T) {
	h := Handler()
	tests := []struct {
		target, file, contentType string
	}{
		{"/assets/app.css", "assets/app.css", "text/css; charset=utf-8"},
		{"/assets/js/app.js", "assets/js/app.js", "text/javascript; charset=utf-8"},
		{"/assets/js/live.js", "assets/js/live.js", "text/javascript; charset=utf-8"},
		{"/assets/icon.svg", "assets/icon.svg", "image/svg+xml"},
	}
	for _, tt := range tests {
		res, body := get(t, h, http.MethodGet, tt.target, nil)
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("GET %s: status %d, want %d", tt.target, got, want)
		}
		if got := res.Header.Get("Content-Type"); got != tt.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tt.target, got, tt.contentType)
		}
		if got, want := res.Header.Get("Cache-Control"), "no-cache"; got != want {
			t.Errorf("GET %s: Cache-Control %q, want %q (unversioned assets revalidate)", tt.target, got, want)
		}
		if body != readEmbedded(t, tt.file) {
			t.Errorf("GET %s: body differs from the embedded %s", tt.target, tt.file)
		}
	}
}

func TestVersionedAssets(t *testing.T) {
	h := Handler()
	_, index := get(t, h, http.MethodGet, "/", nil)
	m := regexp.MustCompile(`"/assets/(v-[0-9a-f]{12})/app\.css"`).FindStringSubmatch(index)
	if m == nil {
		t.Fatalf("served index.html does not reference a versioned app.css:\n%s", index)
	}
	if strings.Contains(index, `"/assets/app.css"`) {
		t.Errorf("served index.html still references an unversioned asset")
	}
	version := m[1]

	res, body := get(t, h, http.MethodGet, "/assets/"+version+"/js/app.js", nil)
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("GET versioned app.js: status %d, want %d", got, want)
	}
	if got, want := res.Header.Get("Cache-Control"), "public, max-age=31536000, immutable"; got != want {
		t.Errorf("GET versioned app.js: Cache-Control %q, want %q", got, want)
	}
	if body != readEmbedded(t, "assets/js/app.js") {
		t.Errorf("GET versioned app.js: body differs from the embedded file")
	}

	// A page from an older build asks for its own version: it gets today's file,
	// but not cached as immutable.
	res, _ = get(t, h, http.MethodGet, "/assets/v-000000000000/js/app.js", nil)
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("GET stale versioned app.js: status %d, want %d", got, want)
	}
	if got, want := res.Header.Get("Cache-Control"), "no-cache"; got != want {
		t.Errorf("GET stale versioned app.js: Cache-Control %q, want %q", got, want)
	}
}

func TestUnknownPathServesIndex(t *testing.T) {
	h := Handler()
	_, index := get(t, h, http.MethodGet, "/", nil)
	for _, target := range []string{"/board", "/accounts/ACC1", "/some/deep/path/", "/assets"} {
		res, body := get(t, h, http.MethodGet, target, nil)
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Errorf("GET %s: status %d, want %d", target, got, want)
			continue
		}
		if got, want := res.Header.Get("Content-Type"), "text/html; charset=utf-8"; got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", target, got, want)
		}
		if body != index {
			t.Errorf("GET %s: body is not index.html", target)
		}
	}
}

func TestMissingAssetIsNotFound(t *testing.T) {
	h := Handler()
	for _, target := range []string{
		"/assets/nope.js", "/assets/js/", "/assets/v-000000000000/nope.css", "/favicon.ico",
		"/web.go", "/assets/../web.go", "/assets/%2e%2e/web_test.go", "/static/index.html.bak",
	} {
		res, body := get(t, h, http.MethodGet, target, nil)
		if got, want := res.StatusCode, http.StatusNotFound; got != want {
			t.Errorf("GET %s: status %d, want %d", target, got, want)
		}
		if strings.Contains(body, "<html") || strings.Contains(body, "package web") {
			t.Errorf("GET %s: 404 body leaks a page or source: %.80q", target, body)
		}
	}
}

func TestConditionalAndHead(t *testing.T) {
	h := Handler()
	for _, target := range []string{"/", "/assets/app.css"} {
		res, _ := get(t, h, http.MethodGet, target, nil)
		etag := res.Header.Get("ETag")
		res, body := get(t, h, http.MethodGet, target, map[string]string{"If-None-Match": etag})
		if got, want := res.StatusCode, http.StatusNotModified; got != want {
			t.Errorf("GET %s If-None-Match %s: status %d, want %d", target, etag, got, want)
		}
		if body != "" {
			t.Errorf("GET %s If-None-Match: 304 has a body", target)
		}
		res, body = get(t, h, http.MethodHead, target, nil)
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Errorf("HEAD %s: status %d, want %d", target, got, want)
		}
		if body != "" {
			t.Errorf("HEAD %s: has a body", target)
		}
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	h := Handler()
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		res, _ := get(t, h, method, "/", nil)
		if got, want := res.StatusCode, http.StatusMethodNotAllowed; got != want {
			t.Errorf("%s /: status %d, want %d", method, got, want)
		}
		if got, want := res.Header.Get("Allow"), "GET, HEAD"; got != want {
			t.Errorf("%s /: Allow %q, want %q", method, got, want)
		}
	}
}

// TestIndexReferencesExist checks that every file index.html loads, and every
// module those scripts import, is in the embed: a typo would otherwise show up
// only as a blank page in a browser.
func TestIndexReferencesExist(t *testing.T) {
	fsys := embedded(t)
	index := readEmbedded(t, "index.html")
	refs := regexp.MustCompile(`(?:src|href)="(/[^"]*)"`).FindAllStringSubmatch(index, -1)
	if len(refs) < 3 {
		t.Fatalf("index.html references %d files; want at least the stylesheet, the scripts and the icon", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if !strings.HasPrefix(ref, "/assets/") {
			t.Errorf("index.html references %q: console files must live under /assets/ (versioned and served)", ref)
			continue
		}
		if _, err := fs.Stat(fsys, strings.TrimPrefix(ref, "/")); err != nil {
			t.Errorf("index.html references %q, which is not embedded: %v", ref, err)
		}
	}

	imports := regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'`)
	js, err := fs.Glob(fsys, "assets/js/*.js")
	if err != nil || len(js) == 0 {
		t.Fatalf("no JavaScript modules embedded (err %v)", err)
	}
	for _, file := range js {
		for _, m := range imports.FindAllStringSubmatch(readEmbedded(t, file), -1) {
			spec := m[1] + m[2]
			if !strings.HasPrefix(spec, "./") {
				t.Errorf("%s imports %q: modules must import each other relatively (./x.js) so versioned URLs carry over", file, spec)
				continue
			}
			target := path.Join(path.Dir(file), spec)
			if _, err := fs.Stat(fsys, target); err != nil {
				t.Errorf("%s imports %q, which is not embedded: %v", file, spec, err)
			}
		}
	}
}

// TestNoInlineCode guards the CSP: without 'unsafe-inline', inline scripts, style
// attributes and on* handlers would silently not run; innerHTML and eval are
// banned so that server data is never parsed as markup or code.
func TestNoInlineCode(t *testing.T) {
	index := readEmbedded(t, "index.html")
	for _, re := range []string{`<script(?:\s[^>]*)?>\s*[^<\s]`, `\sstyle="`, `\son[a-z]+="`, `<style`} {
		if loc := regexp.MustCompile(re).FindStringIndex(index); loc != nil {
			t.Errorf("index.html has inline code the CSP blocks (%s): %q", re, index[loc[0]:min(loc[1]+40, len(index))])
		}
	}
	fsys := embedded(t)
	js, _ := fs.Glob(fsys, "assets/js/*.js")
	for _, file := range js {
		src := readEmbedded(t, file)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function", "document.write"} {
			if strings.Contains(src, bad) {
				t.Errorf("%s uses %s: build DOM with dom.js h() instead", file, bad)
			}
		}
		if strings.Contains(src, "setAttribute('style'") {
			t.Errorf("%s sets a style attribute, which the CSP blocks", file)
		}
	}
}

func TestTestIDs(t *testing.T) {
	// The browser tests drive the console through these; renaming one breaks them.
	index := readEmbedded(t, "index.html")
	for _, id := range []string{"conn-state", "signin-form", "session-list"} {
		if !strings.Contains(index, `data-testid="`+id+`"`) {
			t.Errorf("index.html lacks data-testid=%q", id)
		}
	}
	all := ""
	js, _ := fs.Glob(embedded(t), "assets/js/*.js")
	for _, file := range js {
		all += readEmbedded(t, file)
	}
	for _, id := range []string{
		"session-row", "call-state", "queue-state", "time-in-state", "hold-button", "resume-button",
		"end-button", "end-confirm", "console-data", "console-save", "conflict-dialog",
		"conflict-keep-mine", "conflict-take-theirs", "error-toast",
	} {
		if !strings.Contains(all, `'`+id+`'`) {
			t.Errorf("no module sets data-testid %q", id)
		}
	}
}
