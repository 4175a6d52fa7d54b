// Command sessionhub runs the session hub (serve, the default), mints bearer
// tokens for it (token) and drives realistic call traffic at a running hub
// (simulate). See `sessionhub help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal starts a graceful stop, a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessionhub:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for a command line or configuration mistake, 1 for anything else.
func exitCode(err error) int {
	var ue *usageError
	var fe *flagError
	if errors.As(err, &ue) || errors.As(err, &fe) {
		return 2
	}
	return 1
}

// run is the whole program; main only adds the process around it, so tests can
// run it in-process with their own arguments, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", args
	if len(args) > 0 {
		switch a := args[0]; a {
		case "serve", "token", "simulate":
			cmd, rest = a, args[1:]
		case "version", "--version", "-version":
			fmt.Fprintf(stdout, "sessionhub %s (%s %s/%s)\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		case "help", "-h", "-help", "--help":
			if len(args) > 1 && a == "help" {
				return run(ctx, []string{args[1], "--help"}, getenv, stdout, stderr)
			}
			fmt.Fprint(stdout, topHelp)
			fmt.Fprintln(stdout)
			fmt.Fprintln(stdout, "Flags of serve (each also read from the environment variable shown; the flag wins):")
			var c serveConfig
			serveFlags(&c).printFlags(stdout)
			return nil
		default:
			if len(a) == 0 || a[0] != '-' {
				return usagef("unknown command %q: want serve, token, simulate, version or help", a)
			}
		}
	}
	var err error
	switch cmd {
	case "token":
		err = tokenCmd(rest, getenv, stdout)
	case "simulate":
		err = simulateCmd(ctx, rest, getenv, stdout, stderr)
	default:
		err = serveCmd(ctx, rest, getenv, stdout, stderr)
	}
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

const topHelp = `sessionhub: a real-time hub for contact-center call sessions. REST callers change
a session's state; every change is pushed, in order, to the agent dashboards
watching it over WebSockets.

Usage:
  sessionhub [serve] [flags]    run the hub (the default command)
  sessionhub token [flags]      print a bearer token signed with the hub's secret
  sessionhub simulate [flags]   drive realistic call traffic at a running hub
  sessionhub version            print the version
  sessionhub help [command]     show a command's help and flags

Every flag can also be set by an environment variable: --redis-url is
SESSIONHUB_REDIS_URL, --auth-secret is SESSIONHUB_AUTH_SECRET, and so on.
A flag given on the command line wins over its variable.

Try it:
  sessionhub                      # embedded store; prints a dashboard link with a token
  sessionhub simulate --url 'http://localhost:8080/#token=...'   # paste that link: calls appear
`

// buildVersion is the -X main.version value, else the module version the binary
// was built from (go install ...@v1.2.3), else "dev".
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
