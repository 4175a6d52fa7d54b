package main

import (
	"fmt"
	"io"
	"time"

	"github.com/sessionhub/sessionhub/auth"
)

// tokenConfig is what `sessionhub token` reads.
type tokenConfig struct {
	Secret   string
	User     string
	Name     string
	Accounts []string
	Role     string
	TTL      time.Duration
}

const tokenAbout = `Usage: sessionhub token --secret S --user U --accounts A,B [--role agent] [--ttl 8h] [--name N]

Prints a bearer token (an HS256 JWT) for the hub whose --auth-secret is S. Send it
as "Authorization: Bearer <token>", or open the dashboard with it:
http://localhost:8080/#token=<token>

Roles: viewer (read and watch), agent (viewer + PATCH and log notes),
service (agent + create, PUT and DELETE). Accounts "*" means every account.`

func tokenFlags(c *tokenConfig) *flags {
	f := newFlags("token", tokenAbout)
	f.StringEnv(&c.Secret, "secret", "SECRET", "", "the hub's --auth-secret, which signs the token", "SESSIONHUB_AUTH_SECRET")
	f.String(&c.User, "user", "USER", "", "user id (sub): written to createdBy and lastModifiedBy")
	f.String(&c.Name, "name", "NAME", "", "display name shown in the dashboard (optional)")
	f.List(&c.Accounts, "accounts", "A,B", "", `account ids the token may see, comma separated; "*" for all`)
	f.Enum(&c.Role, "role", "agent", []string{"viewer", "agent", "service"}, "what the token may do")
	f.Duration(&c.TTL, "ttl", 8*time.Hour, false, "how long the token is valid")
	return f
}

func tokenCmd(args []string, getenv func(string) string, stdout io.Writer) error {
	var c tokenConfig
	if err := tokenFlags(&c).parse(args, getenv, stdout); err != nil {
		return err
	}
	switch {
	case c.Secret == "":
		return usagef("token: no secret: pass --secret or set SESSIONHUB_AUTH_SECRET to the hub's --auth-secret")
	case c.User == "":
		return usagef("token: no user: pass --user (or SESSIONHUB_USER), the user id the token stands for")
	case len(c.Accounts) == 0:
		return usagef(`token: no accounts: pass --accounts ACC1,ACC2 (or SESSIONHUB_ACCOUNTS); "*" means every account`)
	}
	tok, err := mintToken([]byte(c.Secret), c.User, c.Name, c.Accounts, auth.Role(c.Role), c.TTL, time.Now())
	if err != nil {
		return usagef("token: %v", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// mintToken signs a token valid from now for ttl.
func mintToken(secret []byte, user, name string, accounts []string, role auth.Role, ttl time.Duration, now time.Time) (string, error) {
	return auth.Sign(secret, auth.Claims{Subject: user, Name: name, Accounts: accounts, Role: role}, now.Add(ttl), now)
}
