package redisstore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// NewClient makes the go-redis client a Redis URL names:
//
//   - redis://[user:password@]host:port[/db][?options] is one Redis; rediss:// is TLS.
//   - several comma-separated addresses (redis://h1:7000,h2:7001,h3:7002) are the
//     seeds of a Cluster; so is one address with ?cluster=true.
//   - ?master_name=NAME is Sentinel: the addresses are the sentinels', the
//     userinfo their credentials, and ?password= (and ?username=) the master's.
//
// Other query options are go-redis's (dial_timeout, read_timeout, pool_size, ...;
// see ParseURL, ParseClusterURL and ParseFailoverURL); an unknown one is an
// error. Context deadlines are honoured unless ?context_timeout_enabled=false.
// Errors never repeat the URL, which may hold a password.
func NewClient(rawURL string) (redis.UniversalClient, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, errors.New("redisstore: the Redis URL is empty: give one such as redis://127.0.0.1:6379/0")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redisstore: the Redis URL cannot be parsed (%v): use redis://[user:password@]host:port[/db]", err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("redisstore: the Redis URL scheme %q is not supported: use redis:// or rediss://", u.Scheme)
	}
	hosts := strings.Split(u.Host, ",")
	for _, h := range hosts {
		if err := checkHost(h); err != nil {
			return nil, err
		}
	}
	q := u.Query()
	ctxTimeout := true
	if v := q.Get("context_timeout_enabled"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("redisstore: the Redis URL option context_timeout_enabled=%q is not a boolean", v)
		}
		ctxTimeout = b
	}
	q.Del("context_timeout_enabled")
	cluster := false
	if v := q.Get("cluster"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("redisstore: the Redis URL option cluster=%q is not a boolean", v)
		}
		cluster = b
	}
	q.Del("cluster")
	sentinel := q.Get("master_name") != ""
	if sentinel && cluster {
		return nil, errors.New("redisstore: the Redis URL names both a Sentinel master (master_name) and a Cluster: choose one")
	}
	if len(hosts) > 1 {
		if !sentinel {
			cluster = true
		}
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
	}
	base := *u
	base.Host = hosts[0]
	base.RawQuery = q.Encode()
	s := base.String()

	switch {
	case sentinel:
		opt, err := redis.ParseFailoverURL(s)
		if err != nil {
			return nil, badOption(err)
		}
		opt.ContextTimeoutEnabled = ctxTimeout
		return redis.NewFailoverClient(opt), nil
	case cluster:
		if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
			return nil, fmt.Errorf("redisstore: a Redis Cluster has only database 0, not %q: drop the path", p)
		}
		base.Path = ""
		opt, err := redis.ParseClusterURL(base.String())
		if err != nil {
			return nil, badOption(err)
		}
		opt.ContextTimeoutEnabled = ctxTimeout
		return redis.NewClusterClient(opt), nil
	default:
		opt, err := redis.ParseURL(s)
		if err != nil {
			return nil, badOption(err)
		}
		opt.ContextTimeoutEnabled = ctxTimeout
		return redis.NewClient(opt), nil
	}
}

// checkHost accepts host, host:port and [v6]:port (the port defaults to 6379).
func checkHost(h string) error {
	if h == "" {
		return errors.New("redisstore: the Redis URL names an empty address: use host:port, comma-separated for a Cluster")
	}
	host, port := h, ""
	if strings.Contains(h, ":") {
		var err error
		if host, port, err = net.SplitHostPort(h); err != nil {
			return fmt.Errorf("redisstore: the Redis URL address %q is not host:port", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("redisstore: the Redis URL port %q is not a number from 1 to 65535", port)
		}
	}
	if host == "" {
		return fmt.Errorf("redisstore: the Redis URL address %q has no host", h)
	}
	return nil
}

func badOption(err error) error {
	return fmt.Errorf("redisstore: the Redis URL is not valid: %w", err)
}
