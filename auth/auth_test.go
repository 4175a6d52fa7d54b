package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var secret = []byte("test-secret-0123456789abcdef0123")

func newAuth(t testing.TB, now time.Time) *Authenticator {
	t.Helper()
	a, err := New(Config{Secret: secret, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSignVerifyRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	a := newAuth(t, now)
	tok, err := a.Sign(Claims{Subject: "u1", Name: "Ann", Accounts: []string{"A", "B"}, Role: RoleAgent}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Subject != "u1" || c.Name != "Ann" || c.Role != RoleAgent || len(c.Accounts) != 2 || !c.Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("claims = %+v, want u1/Ann/agent/[A B]/exp+1h", c)
	}
}

func TestVerifyRejects(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	a := newAuth(t, now)
	good := Claims{Subject: "u1", Accounts: []string{"A"}, Role: RoleViewer}
	expired, _ := Sign(secret, good, now.Add(-time.Second), now.Add(-time.Hour))
	otherKey, _ := Sign([]byte("another-secret-another-secret-xx"), good, now.Add(time.Hour), now)
	valid, _ := Sign(secret, good, now.Add(time.Hour), now)
	parts := strings.Split(valid, ".")
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	algNone := noneHeader + "." + parts[1] + "."
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"root","accounts":["*"],"role":"service","exp":9999999999}`)) + "." + parts[2]
	mk := func(claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exp := now.Add(time.Hour).Unix()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	es, _ := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"sub": "u", "accounts": []string{"A"}, "role": "agent", "exp": exp}).SignedString(ecKey)

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrMissing},
		{"garbage", "not-a-jwt", ErrInvalid},
		{"expired", expired, ErrExpired},
		{"wrong key", otherKey, ErrInvalid},
		{"alg none", algNone, ErrInvalid},
		{"tampered payload", tampered, ErrInvalid},
		{"oversized", strings.Repeat("a", MaxTokenLength+1), ErrInvalid},
		{"no exp", mk(jwt.MapClaims{"sub": "u", "accounts": []string{"A"}, "role": "agent"}), ErrInvalid},
		{"no sub", mk(jwt.MapClaims{"accounts": []string{"A"}, "role": "agent", "exp": exp}), ErrInvalid},
		{"bad role", mk(jwt.MapClaims{"sub": "u", "accounts": []string{"A"}, "role": "root", "exp": exp}), ErrInvalid},
		{"no accounts", mk(jwt.MapClaims{"sub": "u", "role": "agent", "exp": exp}), ErrInvalid},
		{"accounts wrong type", mk(jwt.MapClaims{"sub": "u", "accounts": "A", "role": "agent", "exp": exp}), ErrInvalid},
		{"ES256 without public key", es, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Verify(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyES256WithPublicKey(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	a, err := New(Config{PublicKeys: []crypto.PublicKey{&key.PublicKey}})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"sub": "svc", "accounts": []string{"*"}, "role": "service", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(key)
	c, err := a.Verify(tok)
	if err != nil {
		t.Fatalf("Verify ES256: %v", err)
	}
	if !c.AllAccounts() || !c.Can(Manage) {
		t.Fatalf("claims = %+v, want all accounts and service rights", c)
	}
	// An HS256 token must not verify when no secret is configured.
	hs, _ := Sign(secret, Claims{Subject: "u", Accounts: []string{"A"}, Role: RoleAgent}, time.Now().Add(time.Hour), time.Now())
	if _, err := a.Verify(hs); !errors.Is(err, ErrInvalid) {
		t.Fatalf("HS256 with no secret: %v, want ErrInvalid", err)
	}
}

func TestPermissions(t *testing.T) {
	tests := []struct {
		role                Role
		read, write, manage bool
	}{
		{RoleViewer, true, false, false},
		{RoleAgent, true, true, false},
		{RoleService, true, true, true},
		{Role("root"), false, false, false},
	}
	for _, tt := range tests {
		c := Claims{Role: tt.role}
		if c.Can(Read) != tt.read || c.Can(Write) != tt.write || c.Can(Manage) != tt.manage {
			t.Errorf("%s: read/write/manage = %v/%v/%v, want %v/%v/%v", tt.role,
				c.Can(Read), c.Can(Write), c.Can(Manage), tt.read, tt.write, tt.manage)
		}
	}
	c := Claims{Accounts: []string{"A"}}
	if !c.HasAccount("A") || c.HasAccount("B") {
		t.Error("HasAccount: want A only")
	}
	if !(Claims{Accounts: []string{"*"}}).HasAccount("anything") {
		t.Error(`HasAccount with "*": want every account`)
	}
}

func TestBearerToken(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer abc":   "abc",
		"bearer  abc ": "abc",
		"Basic abc":    "",
		"abc":          "",
		"":             "",
	} {
		if got := BearerToken(in); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignRefusesIncompleteClaims(t *testing.T) {
	now := time.Now()
	for _, c := range []Claims{
		{Accounts: []string{"A"}, Role: RoleAgent},
		{Subject: "u", Role: RoleAgent},
		{Subject: "u", Accounts: []string{"A"}, Role: "boss"},
	} {
		if _, err := Sign(secret, c, now.Add(time.Hour), now); err == nil {
			t.Errorf("Sign(%+v) succeeded, want an error", c)
		}
	}
}

func FuzzVerify(f *testing.F) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	valid, _ := Sign(secret, Claims{Subject: "u", Accounts: []string{"A"}, Role: RoleAgent}, now.Add(time.Hour), now)
	f.Add(valid)
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	a := newAuth(f, now)
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := a.Verify(tok)
		if err == nil && tok != valid {
			// Only a token signed with the secret may verify.
			if _, err2 := jwt.Parse(tok, func(*jwt.Token) (any, error) { return secret, nil }, jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now })); err2 != nil {
				t.Fatalf("Verify accepted %q (%+v) that does not carry our signature", tok, c)
			}
		}
	})
}

func TestParsePublicKeys(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	keys, err := ParsePublicKeys(data)
	if err != nil || len(keys) != 1 {
		t.Fatalf("ParsePublicKeys = %d keys, %v; want 1, nil", len(keys), err)
	}
	for _, bad := range []string{"", "garbage", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"} {
		if _, err := ParsePublicKeys([]byte(bad)); err == nil {
			t.Errorf("ParsePublicKeys(%q) succeeded, want an error", bad)
		}
	}
}
