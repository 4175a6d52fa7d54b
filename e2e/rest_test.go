package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// sessionInfo is the part of a SessionInfo the tests look at.
type sessionInfo struct {
	ID          string `json:"id"`
	AccountID   string `json:"accountId"`
	CallState   string `json:"callState"`
	QueueState  string `json:"queueState"`
	HoldReason  string `json:"holdReason"`
	HeldBy      string `json:"heldByUserId"`
	ConsoleData string `json:"consoleData"`
	Ended       bool   `json:"ended"`
	// DateCompleted is set when the session ends.
	DateCompleted string `json:"dateCompleted"`
}

// restClient calls a hub's REST API with one bearer token.
type restClient struct {
	base  string // http://127.0.0.1:PORT/
	token string
	http  *http.Client
}

func newREST(base, token string) *restClient {
	return &restClient{base: strings.TrimSuffix(base, "/"), token: token, http: &http.Client{Timeout: 10 * time.Second}}
}

// do sends one request and returns the status, the ETag and the body.
func (c *restClient) do(tb testing.TB, method, path string, body any, header http.Header) (int, string, []byte) {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatalf("%s %s: encode body: %v", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s %s: read the reply: %v", method, path, err)
	}
	return res.StatusCode, res.Header.Get("ETag"), data
}

// session does method on path and wants a 200 with a SessionInfo.
func (c *restClient) session(tb testing.TB, method, path string, body any) sessionInfo {
	tb.Helper()
	status, _, data := c.do(tb, method, path, body, nil)
	if status != http.StatusOK {
		tb.Fatalf("%s %s: got status %d, want 200: %s", method, path, status, data)
	}
	var s sessionInfo
	if err := json.Unmarshal(data, &s); err != nil {
		tb.Fatalf("%s %s: the reply is not a SessionInfo: %v: %s", method, path, err, data)
	}
	return s
}

// create makes a session (the token needs the service role).
func (c *restClient) create(tb testing.TB, fields map[string]any) sessionInfo {
	tb.Helper()
	return c.session(tb, http.MethodPost, "/sessions", fields)
}

// patch is the seed's PATCH /sessions/{id}, without If-Match.
func (c *restClient) patch(tb testing.TB, id string, fields map[string]any) sessionInfo {
	tb.Helper()
	return c.session(tb, http.MethodPatch, "/sessions/"+url.PathEscape(id), fields)
}

// get reads a session.
func (c *restClient) get(tb testing.TB, id string) sessionInfo {
	tb.Helper()
	return c.session(tb, http.MethodGet, "/sessions/"+url.PathEscape(id), nil)
}

// tokenSpec describes a token for `sessionhub token`.
type tokenSpec struct {
	User, Name, Role string
	Accounts         []string
	TTL              time.Duration // default 1h
}

// mintToken asks the built binary for a token, as an operator would.
func mintToken(tb testing.TB, secret string, spec tokenSpec) string {
	tb.Helper()
	if spec.TTL == 0 {
		spec.TTL = time.Hour
	}
	args := []string{"token", "--secret", secret, "--user", spec.User, "--accounts", strings.Join(spec.Accounts, ","),
		"--role", spec.Role, "--ttl", spec.TTL.String()}
	if spec.Name != "" {
		args = append(args, "--name", spec.Name)
	}
	cmd := exec.Command(hubBinary, args...)
	cmd.Env = hubEnv()
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		tb.Fatalf("sessionhub %s: %v: %s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// uniqueID returns prefix followed by random hex, a valid session or account id.
func uniqueID(tb testing.TB, prefix string) string {
	tb.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("random id: %v", err)
	}
	return prefix + "-" + hex.EncodeToString(b)
}

// newSecret returns a random --auth-secret.
func newSecret(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("random secret: %v", err)
	}
	return hex.EncodeToString(b)
}
