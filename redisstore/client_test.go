package redisstore

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestNewClient(t *testing.T) {
	for _, c := range []struct {
		url   string
		kind  string // "single", "cluster", "sentinel"
		addrs []string
	}{
		{"redis://127.0.0.1:6379/0", "single", []string{"127.0.0.1:6379"}},
		{"redis://localhost", "single", []string{"localhost:6379"}},
		{"rediss://user:secret@10.0.0.1:6380/2?dial_timeout=3s", "single", []string{"10.0.0.1:6380"}},
		{"redis://h1:7000,h2:7001,h3:7002", "cluster", []string{"h1:7000", "h2:7001", "h3:7002"}},
		{"redis://:pw@h1:7000,h2:7001/0?read_timeout=2s", "cluster", []string{"h1:7000", "h2:7001"}},
		{"redis://h1:7000?cluster=true", "cluster", []string{"h1:7000"}},
		{"redis://s1:26379,s2:26379?master_name=mymaster&password=pw", "sentinel", []string{"s1:26379", "s2:26379"}},
		{"redis://s1:26379/1?master_name=m&context_timeout_enabled=false", "sentinel", []string{"s1:26379"}},
	} {
		t.Run(c.url, func(t *testing.T) {
			rc, err := NewClient(c.url)
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			defer rc.Close()
			switch cl := rc.(type) {
			case *redis.ClusterClient:
				if c.kind != "cluster" {
					t.Fatalf("got a Cluster client, want %s", c.kind)
				}
				if got := cl.Options().Addrs; strings.Join(got, ",") != strings.Join(c.addrs, ",") {
					t.Fatalf("cluster seeds: got %v, want %v", got, c.addrs)
				}
				if !cl.Options().ContextTimeoutEnabled {
					t.Fatal("context deadlines are not honoured")
				}
			case *redis.Client:
				opt := cl.Options()
				switch c.kind {
				case "single":
					if opt.Addr != c.addrs[0] {
						t.Fatalf("addr: got %s, want %s", opt.Addr, c.addrs[0])
					}
					if !opt.ContextTimeoutEnabled {
						t.Fatal("context deadlines are not honoured")
					}
				case "sentinel":
					// A failover client dials through the sentinels; its Addr is
					// not a host:port of the URL.
					if opt.Addr == c.addrs[0] {
						t.Fatalf("got a plain client for a Sentinel URL")
					}
				default:
					t.Fatalf("got a single client, want %s", c.kind)
				}
			default:
				t.Fatalf("unexpected client type %T", rc)
			}
		})
	}
}

func TestNewClientBadURLs(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"http://h:1", "scheme"},
		{"127.0.0.1:6379", "redis://"},
		{"redis://user:topsecret@h:1,:2", "no host"},
		{"redis://user:topsecret@h:99999", "port"},
		{"redis://user:topsecret@h:1,,h2:2", "empty address"},
		{"redis://h:1?nonsense=1", "unexpected option"},
		{"redis://h:1/x", "database"},
		{"redis://h1:1,h2:2/3", "database 0"},
		{"redis://h:1?cluster=maybe", "boolean"},
		{"redis://h:1?master_name=m&cluster=true", "choose one"},
		{"redis://user:topsecret@[::1", "cannot be parsed"},
	} {
		_, err := NewClient(c.url)
		if err == nil {
			t.Errorf("NewClient(%q): got no error, want one about %s", c.url, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewClient(%q): got %q, want it to mention %q", c.url, err, c.want)
		}
		if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("NewClient(%q): the error leaks the password: %q", c.url, err)
		}
	}
}
