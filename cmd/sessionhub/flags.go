package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// envPrefix starts the environment twin of every flag: --redis-url is
// SESSIONHUB_REDIS_URL.
const envPrefix = "SESSIONHUB_"

// usageError is a mistake in how the command was called: main exits 2 on it.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// flagError is a flag or environment value that cannot be used. It names both the
// flag and its environment twin, whichever the value came from, so a person can
// find it in a unit file as easily as on a command line.
type flagError struct {
	Flag    string
	Env     string
	Value   string
	FromEnv bool
	Err     error
}

func (e *flagError) Error() string {
	if e.FromEnv {
		return fmt.Sprintf("%s=%q (the environment twin of --%s): %v", e.Env, e.Value, e.Flag, e.Err)
	}
	return fmt.Sprintf("--%s %q (environment: %s): %v", e.Flag, e.Value, e.Env, e.Err)
}

func (e *flagError) Unwrap() error { return e.Err }

// flags is a flag.FlagSet whose every flag has a SESSIONHUB_* environment twin.
// A flag given on the command line wins over its twin; an empty twin counts as
// unset.
type flags struct {
	cmd    string // "serve", "token", ...
	about  string // the command's help text, above its flags
	fs     *flag.FlagSet
	envs   map[string]string // flag name → environment variable
	metas  map[string]string // flag name → placeholder shown in help
	failed *flagError        // the value that made fs.Parse fail
	order  []string          // flag names in the order they were defined
}

func newFlags(cmd, about string) *flags {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{cmd: cmd, about: about, fs: fs, envs: map[string]string{}, metas: map[string]string{}}
}

// value adapts a parse function to flag.Value and remembers a failure so that
// Parse can report it with the flag's environment twin.
type value struct {
	f     *flags
	name  string
	set   func(string) error
	shown string
}

func (v *value) String() string {
	if v == nil {
		return ""
	}
	return v.shown
}

func (v *value) Set(s string) error {
	if err := v.set(s); err != nil {
		v.f.failed = &flagError{Flag: v.name, Env: v.f.envs[v.name], Value: s, Err: err}
		return err
	}
	v.shown = s
	return nil
}

// define registers a flag with its default (shown in help), placeholder and
// environment twin (envPrefix + NAME unless env is given).
func (f *flags) define(name, meta, def, usage, env string, set func(string) error) {
	if env == "" {
		env = envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	}
	f.envs[name] = env
	f.metas[name] = meta
	f.order = append(f.order, name)
	v := &value{f: f, name: name, set: set, shown: def}
	f.fs.Var(v, name, usage)
	f.fs.Lookup(name).DefValue = def
}

func (f *flags) String(p *string, name, meta, def, usage string) {
	f.StringEnv(p, name, meta, def, usage, "")
}

// StringEnv is String with an environment twin that does not follow the rule
// (the secret of `token` and `simulate` is the server's SESSIONHUB_AUTH_SECRET).
func (f *flags) StringEnv(p *string, name, meta, def, usage, env string) {
	*p = def
	f.define(name, meta, def, usage, env, func(s string) error { *p = s; return nil })
}

// List is a comma-separated list; blanks are dropped.
func (f *flags) List(p *[]string, name, meta, def, usage string) {
	*p = splitList(def)
	f.define(name, meta, def, usage, "", func(s string) error { *p = splitList(s); return nil })
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// Duration must be positive unless zero is allowed.
func (f *flags) Duration(p *time.Duration, name string, def time.Duration, allowZero bool, usage string) {
	*p = def
	f.define(name, "DURATION", fmtDuration(def), usage, "", func(s string) error {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not a duration: write it like 15s, 90m or 24h")
		}
		if d < 0 || (d == 0 && !allowZero) {
			return errors.New("must be more than zero")
		}
		*p = d
		return nil
	})
}

// fmtDuration writes d as a person would type it: 24h, not 24h0m0s.
func fmtDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Int must be at least min.
func (f *flags) Int(p *int, name string, def, min int, usage string) {
	*p = def
	f.define(name, "N", strconv.Itoa(def), usage, "", func(s string) error {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not a whole number")
		}
		if n < min {
			return fmt.Errorf("must be at least %d", min)
		}
		*p = n
		return nil
	})
}

// Float must be more than zero.
func (f *flags) Float(p *float64, name string, def float64, usage string) {
	*p = def
	f.define(name, "N", strconv.FormatFloat(def, 'g', -1, 64), usage, "", func(s string) error {
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return errors.New("not a number")
		}
		if !(n > 0) || n > 1e6 {
			return errors.New("must be more than 0 (and at most 1000000)")
		}
		*p = n
		return nil
	})
}

// Int64 accepts any whole number (a seed).
func (f *flags) Int64(p *int64, name, meta string, def int64, usage string) {
	*p = def
	f.define(name, meta, strconv.FormatInt(def, 10), usage, "", func(s string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return errors.New("not a whole number")
		}
		*p = n
		return nil
	})
}

// Size is a byte count: 1048576, 64KiB, 1MiB (KB and MB mean the same here).
func (f *flags) Size(p *int64, name string, def int64, usage string) {
	*p = def
	f.define(name, "BYTES", fmtSize(def), usage, "", func(s string) error {
		n, err := parseSize(s)
		if err != nil {
			return err
		}
		*p = n
		return nil
	})
}

func fmtSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10)
}

func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"MIB", 1 << 20}, {"MB", 1 << 20}, {"M", 1 << 20}, {"KIB", 1 << 10}, {"KB", 1 << 10}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, errors.New("not a size: write a positive number of bytes, or one like 64KiB or 1MiB")
	}
	return n * mult, nil
}

// Enum is one of a fixed set of words, matched case-insensitively.
func (f *flags) Enum(p *string, name, def string, allowed []string, usage string) {
	*p = def
	f.define(name, strings.Join(allowed, "|"), def, usage, "", func(s string) error {
		w := strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(allowed, w) {
			return fmt.Errorf("want one of %s", strings.Join(allowed, ", "))
		}
		*p = w
		return nil
	})
}

// LogLevel is a slog level name.
func (f *flags) LogLevel(p *slog.Level, name, def, usage string) {
	_ = p.UnmarshalText([]byte(def))
	f.define(name, "LEVEL", def, usage, "", func(s string) error {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "debug", "info", "warn", "warning", "error":
		default:
			return errors.New("want one of debug, info, warn, error")
		}
		w := strings.TrimSpace(s)
		if strings.EqualFold(w, "warning") {
			w = "warn"
		}
		return p.UnmarshalText([]byte(w))
	})
}

// errHelp is returned by parse when help was asked for and has been printed.
var errHelp = flag.ErrHelp

// parse reads args, then fills every flag that args did not set from its
// environment twin. It rejects positional arguments. On -h or --help it prints
// the help to out and returns errHelp.
func (f *flags) parse(args []string, getenv func(string) string, out io.Writer) error {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			f.usage(out)
			return errHelp
		}
		if f.failed != nil {
			return f.failed
		}
		return usagef("%s: %v (run `sessionhub %s --help` to see the flags)", f.cmd, dashes(err), f.cmd)
	}
	if f.fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q: flags start with --, as in --addr :8080 (run `sessionhub %s --help`)", f.cmd, f.fs.Arg(0), f.cmd)
	}
	given := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	for _, name := range f.order {
		env := f.envs[name]
		v := getenv(env)
		if given[name] || v == "" {
			continue
		}
		fv := f.fs.Lookup(name).Value.(*value)
		if err := fv.set(v); err != nil {
			return &flagError{Flag: name, Env: env, Value: v, FromEnv: true, Err: err}
		}
		fv.shown = v
	}
	return nil
}

// bad reports a value that parsed but cannot be used, naming the flag or the
// environment variable it came from.
func (f *flags) bad(name, val string, err error) error {
	given := false
	f.fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == name })
	return &flagError{Flag: name, Env: f.envs[name], Value: val, FromEnv: !given, Err: err}
}

// dashes rewrites the flag package's "-name" to the "--name" that help shows.
func dashes(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": -"); i >= 0 && !strings.HasPrefix(msg[i:], ": --") {
		msg = msg[:i] + ": --" + msg[i+len(": -"):]
	}
	return errors.New(msg)
}

// usage prints the command's help: its text, then each flag with its default
// and environment twin.
func (f *flags) usage(out io.Writer) {
	fmt.Fprintln(out, strings.TrimRight(f.about, "\n"))
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Flags (each also read from the environment variable shown; the flag wins):")
	f.printFlags(out)
}

func (f *flags) printFlags(out io.Writer) {
	for _, name := range f.order {
		fl := f.fs.Lookup(name)
		def := ""
		if fl.DefValue != "" {
			def = ", default " + fl.DefValue
		}
		fmt.Fprintf(out, "  --%s %s   (%s%s)\n", name, f.metas[name], f.envs[name], def)
		for _, l := range wrap(fl.Usage, 74) {
			fmt.Fprintf(out, "        %s\n", l)
		}
	}
}

// wrap breaks s into lines of at most width characters at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
