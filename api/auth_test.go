package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/sessionhub/sessionhub/auth"
)

func TestAuthTokens(t *testing.T) {
	e := newEnv(t)
	e.seed(t, "s1", "A")
	claims := func(exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"sub": "u", "accounts": []string{"A"}, "role": "service", "exp": exp.Unix()}
	}
	sign := func(secret []byte, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(time.Now().Add(time.Hour))).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	es, _ := jwt.NewWithClaims(jwt.SigningMethodES256, claims(time.Now().Add(time.Hour))).SignedString(ecKey)
	good := sign(testSecret, claims(time.Now().Add(time.Hour)))
	parts := strings.Split(good, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u","accounts":["*"],"role":"service","exp":9999999999}`)) + "." + parts[2]

	tests := []struct {
		name, header string
		want         int
		invalid      bool // WWW-Authenticate names invalid_token
	}{
		{"no token", "", 401, false},
		{"not bearer", "Authorization: Basic dXNlcjpwYXNz", 401, false}, // RFC 6750 §3.1: no bearer token, no error code
		{"expired", "Authorization: Bearer " + sign(testSecret, claims(time.Now().Add(-time.Minute))), 401, true},
		{"bad signature", "Authorization: Bearer " + sign([]byte("another-secret"), claims(time.Now().Add(time.Hour))), 401, true},
		{"forged payload", "Authorization: Bearer " + forged, 401, true},
		{"alg none", "Authorization: Bearer " + none, 401, true},
		{"unknown ES256 key", "Authorization: Bearer " + es, 401, true},
		{"garbage", "Authorization: Bearer not.a.jwt", 401, true},
		{"huge", "Authorization: Bearer " + strings.Repeat("a", 9000), 401, true},
		{"good", "Authorization: Bearer " + good, 200, false},
		{"scheme any case", "Authorization: bearer " + good, 200, false},
	}
	for _, tt := range tests {
		r := e.req(t, "GET", "/sessions/s1", "", tt.header)
		if r.status != tt.want {
			t.Errorf("%s: status %d, want %d; %s", tt.name, r.status, tt.want, r.body)
			continue
		}
		if tt.want != 401 {
			continue
		}
		wa := r.header.Get("WWW-Authenticate")
		if !strings.HasPrefix(wa, "Bearer") || strings.Contains(wa, "invalid_token") != tt.invalid {
			t.Errorf("%s: WWW-Authenticate %q, want Bearer (invalid_token: %v)", tt.name, wa, tt.invalid)
		}
		wantContains(t, r.body, `"errorCode":"Unauthorized"`)
		if strings.Contains(r.body, string(testSecret)) {
			t.Errorf("%s: body shows the secret", tt.name)
		}
	}
}

func TestAuthRolesAndAccounts(t *testing.T) {
	e := newEnv(t)
	e.seed(t, "a1", "A")
	e.seed(t, "b1", "B")
	viewer := bearer(e.token(t, auth.RoleViewer, "A"))
	agent := bearer(e.token(t, auth.RoleAgent, "A"))
	service := bearer(e.token(t, auth.RoleService, "A"))
	all := bearer(e.token(t, auth.RoleService, "*"))

	tests := []struct {
		name, method, path, body, tok string
		headers                       []string
		want                          int
	}{
		{"viewer reads", "GET", "/sessions/a1", "", viewer, nil, 200},
		{"viewer lists", "GET", "/sessions", "", viewer, nil, 200},
		{"viewer may not patch", "PATCH", "/sessions/a1", `{}`, viewer, nil, 403},
		{"viewer may not log", "POST", "/sessions/a1/log", `{"message":"m"}`, viewer, nil, 403},
		{"agent patches", "PATCH", "/sessions/a1", `{"consoleData":"x"}`, agent, nil, 200},
		{"agent logs", "POST", "/sessions/a1/log", `{"message":"m"}`, agent, nil, 200},
		{"agent may not create", "POST", "/sessions", `{"accountId":"A"}`, agent, nil, 403},
		{"agent may not put", "PUT", "/sessions/a1", `{}`, agent, nil, 403},
		{"agent may not delete", "DELETE", "/sessions/a1", "", agent, nil, 403},
		{"other account get is 404", "GET", "/sessions/b1", "", service, nil, 404},
		{"other account patch is 404", "PATCH", "/sessions/b1", `{"consoleData":"x"}`, service, nil, 404},
		{"other account stale If-Match is 404", "PATCH", "/sessions/b1", `{"consoleData":"x"}`, service, []string{`If-Match: "7"`}, 404},
		{"other account log is 404", "POST", "/sessions/b1/log", `{"message":"m"}`, service, nil, 404},
		{"other account put is 404", "PUT", "/sessions/b1", `{}`, service, nil, 404},
		{"other account delete is 404", "DELETE", "/sessions/b1", "", service, nil, 404},
		{"create in other account is 403", "POST", "/sessions", `{"accountId":"B"}`, service, nil, 403},
		{"star token sees all", "GET", "/sessions/b1", "", all, nil, 200},
		{"star token creates anywhere", "POST", "/sessions", `{"accountId":"Z"}`, all, nil, 200},
	}
	for _, tt := range tests {
		r := e.req(t, tt.method, tt.path, tt.body, append([]string{tt.tok}, tt.headers...)...)
		if r.status != tt.want {
			t.Errorf("%s: status %d, want %d; %s", tt.name, r.status, tt.want, r.body)
		}
	}
	if got := e.get(t, "b1"); got.Version != 1 || got.Info.ConsoleData != "" {
		t.Errorf("a write from another account changed b1: %+v", got)
	}
	// The 404 for another account's session is the 404 for a missing one.
	hidden := e.req(t, "GET", "/sessions/b1", "", service).body
	missing := e.req(t, "GET", "/sessions/zz", "", service).body
	if strings.ReplaceAll(hidden, "b1", "ID") != strings.ReplaceAll(missing, "zz", "ID") {
		t.Errorf("hidden and missing differ:\n%s\n%s", hidden, missing)
	}
}
