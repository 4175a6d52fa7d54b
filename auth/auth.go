// Package auth verifies and issues the bearer tokens of DESIGN §5: JWTs signed
// with HS256 (or verified with RS256/ES256 public keys) that carry the caller's
// user id, name, accounts and role.
package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Role is what a token may do.
type Role string

// Roles, each allowed everything the one before it may do.
const (
	RoleViewer  Role = "viewer"  // read and subscribe within its accounts
	RoleAgent   Role = "agent"   // viewer + PATCH and log append
	RoleService Role = "service" // agent + create, PUT and DELETE
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleAgent:
		return 2
	case RoleService:
		return 3
	}
	return 0
}

// ParseRole accepts a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if r.rank() == 0 {
		return "", fmt.Errorf("role %q: want viewer, agent or service", s)
	}
	return r, nil
}

// Permission is one thing a route or command needs.
type Permission int

// Permissions.
const (
	Read   Permission = iota // GET, subscribe
	Write                    // PATCH, log append
	Manage                   // create, PUT, DELETE
)

// Claims are a verified token's contents.
type Claims struct {
	Subject  string    // sub: the user id, written to createdBy/lastModifiedBy
	Name     string    // name: shown in the dashboard
	Accounts []string  // accounts: account ids, or ["*"] for all
	Role     Role      // role
	Expires  time.Time // exp
}

// AllAccounts reports whether the token covers every account ("*").
func (c Claims) AllAccounts() bool { return slices.Contains(c.Accounts, "*") }

// HasAccount reports whether the token covers account id.
func (c Claims) HasAccount(id string) bool {
	return c.AllAccounts() || slices.Contains(c.Accounts, id)
}

// Can reports whether the role allows p.
func (c Claims) Can(p Permission) bool {
	return c.Role.rank() >= int(p)+1
}

// Errors from Verify; both are an unauthorized request.
var (
	ErrMissing = errors.New("no bearer token: send Authorization: Bearer <token> (create one with `sessionhub token`)")
	ErrInvalid = errors.New("invalid token")
	ErrExpired = errors.New("token expired: sign in again or get a new token")
)

// Config configures an Authenticator. Secret signs and verifies HS256 tokens;
// PublicKeys (RSA or ECDSA) verify RS256/ES256 tokens from another issuer.
type Config struct {
	Secret     []byte
	PublicKeys []crypto.PublicKey
	// Leeway tolerates clock skew on exp; default 0.
	Leeway time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Authenticator verifies tokens, and signs them when it has a secret.
type Authenticator struct {
	cfg    Config
	parser *jwt.Parser
}

// New returns an Authenticator for cfg.
func New(cfg Config) (*Authenticator, error) {
	if len(cfg.Secret) == 0 && len(cfg.PublicKeys) == 0 {
		return nil, errors.New("auth: need a secret or a public key")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{"HS256", "RS256", "ES256"}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
	)
	return &Authenticator{cfg: cfg, parser: p}, nil
}

type tokenClaims struct {
	Name     string   `json:"name,omitempty"`
	Accounts []string `json:"accounts"`
	Role     string   `json:"role"`
	jwt.RegisteredClaims
}

// MaxTokenLength bounds what Verify will parse.
const MaxTokenLength = 8 << 10

// Verify checks a token's signature, expiry and claims. Errors are ErrInvalid or
// ErrExpired, wrapped with what was wrong; none holds key material.
func (a *Authenticator) Verify(token string) (Claims, error) {
	if token == "" {
		return Claims{}, ErrMissing
	}
	if len(token) > MaxTokenLength {
		return Claims{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxTokenLength)
	}
	var tc tokenClaims
	_, err := a.parser.ParseWithClaims(token, &tc, a.key)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, ErrExpired
	case err != nil:
		return Claims{}, fmt.Errorf("%w: %s", ErrInvalid, describe(err))
	}
	if tc.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no sub claim", ErrInvalid)
	}
	role, err := ParseRole(tc.Role)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(tc.Accounts) == 0 {
		return Claims{}, fmt.Errorf("%w: no accounts claim", ErrInvalid)
	}
	return Claims{
		Subject:  tc.Subject,
		Name:     tc.Name,
		Accounts: tc.Accounts,
		Role:     role,
		Expires:  tc.ExpiresAt.Time,
	}, nil
}

func describe(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "unsupported signing method or key"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "no exp claim"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "not valid yet"
	}
	return "rejected"
}

func (a *Authenticator) key(t *jwt.Token) (any, error) {
	switch t.Method.(type) {
	case *jwt.SigningMethodHMAC:
		if len(a.cfg.Secret) == 0 {
			return nil, errors.New("no HS256 secret configured")
		}
		return a.cfg.Secret, nil
	case *jwt.SigningMethodRSA:
		keys := jwt.VerificationKeySet{}
		for _, k := range a.cfg.PublicKeys {
			if rk, ok := k.(*rsa.PublicKey); ok {
				keys.Keys = append(keys.Keys, rk)
			}
		}
		return keys, nil
	case *jwt.SigningMethodECDSA:
		keys := jwt.VerificationKeySet{}
		for _, k := range a.cfg.PublicKeys {
			if ek, ok := k.(*ecdsa.PublicKey); ok {
				keys.Keys = append(keys.Keys, ek)
			}
		}
		return keys, nil
	}
	return nil, errors.New("unsupported method")
}

// Sign issues an HS256 token for c valid for ttl.
func (a *Authenticator) Sign(c Claims, ttl time.Duration) (string, error) {
	if len(a.cfg.Secret) == 0 {
		return "", errors.New("auth: signing needs a secret")
	}
	return Sign(a.cfg.Secret, c, a.cfg.Now().Add(ttl), a.cfg.Now())
}

// Sign issues an HS256 token for c that expires at exp.
func Sign(secret []byte, c Claims, exp, now time.Time) (string, error) {
	if c.Subject == "" {
		return "", errors.New("auth: token needs a user (sub)")
	}
	if len(c.Accounts) == 0 {
		return "", errors.New("auth: token needs at least one account (or *)")
	}
	if c.Role.rank() == 0 {
		return "", fmt.Errorf("auth: role %q: want viewer, agent or service", c.Role)
	}
	tc := tokenClaims{
		Name:     c.Name,
		Accounts: c.Accounts,
		Role:     string(c.Role),
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   c.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, tc).SignedString(secret)
}

// BearerToken extracts the token of an "Authorization: Bearer <token>" header.
func BearerToken(header string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
