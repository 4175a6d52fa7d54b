package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hubBinary is the sessionhub binary TestMain built for this run; empty when no
// browser was found, as every test then skips before it needs one.
var hubBinary string

// moduleRoot is the directory holding go.mod.
var moduleRoot string

// browserPath is the Chromium (or Chrome) the tests drive; empty when none.
var browserPath string

// TestMain builds the real binary once, from the module root, as a person would.
func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	browserPath = findBrowser()
	if browserPath == "" && !browserRequired() {
		// Every test skips with a message; building the hub would only cost time.
		return m.Run()
	}
	root, err := findModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	moduleRoot = root
	dir, err := os.MkdirTemp("", "sessionhub-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: make a directory for the binary:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "sessionhub")
	build := exec.Command("go", "build", "-o", bin, "./cmd/sessionhub")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/sessionhub in %s: %v\n%s", root, err, out)
		return 1
	}
	hubBinary = bin
	return m.Run()
}

// findModuleRoot asks the go command where go.mod is, so the tests work from
// any working directory inside the module.
func findModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the sessionhub module: run the tests from the checkout (go test ./e2e/)")
	}
	return filepath.Dir(gomod), nil
}

// browserRequired reports whether a missing browser is a failure (CI) rather
// than a skip.
func browserRequired() bool {
	return os.Getenv("SESSIONHUB_REQUIRE_BROWSER") != ""
}

// findBrowser returns the first Chromium-like browser found: $SESSIONHUB_BROWSER,
// Debian's /usr/bin/chromium, then the usual names on PATH.
func findBrowser() string {
	if p := os.Getenv("SESSIONHUB_BROWSER"); p != "" {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
		return ""
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}

// needBrowser skips the test when there is no browser, or fails it when one is
// required.
func needBrowser(tb testing.TB) {
	tb.Helper()
	if browserPath != "" {
		return
	}
	const why = "no Chromium found (looked for $SESSIONHUB_BROWSER, /usr/bin/chromium, chromium, chromium-browser, google-chrome)"
	if browserRequired() {
		tb.Fatalf("a browser is required (SESSIONHUB_REQUIRE_BROWSER is set) but %s: install chromium", why)
	}
	tb.Skipf("skipping browser test: %s; install chromium or set SESSIONHUB_BROWSER", why)
}
