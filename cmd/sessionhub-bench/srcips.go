package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// maxSrcIPs bounds --src-ips: 65,536 addresses is far more than any run needs
// and keeps a typo from allocating millions.
const maxSrcIPs = 1 << 16

// parseSrcIPs reads --src-ips: a count n (the addresses 127.0.0.1 through
// 127.0.0.n), a range "127.0.0.1-127.0.0.50", a single address, or a comma
// list of any of these. An empty string means none (the OS picks). Addresses
// are IPv4 or IPv6; a range must stay within one family and go upwards.
func parseSrcIPs(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ips, err := parseSrcIPPart(part)
		if err != nil {
			return nil, fmt.Errorf("--src-ips %q: %w", part, err)
		}
		if len(out)+len(ips) > maxSrcIPs {
			return nil, fmt.Errorf("--src-ips: more than %d addresses; use a smaller range", maxSrcIPs)
		}
		out = append(out, ips...)
	}
	return out, nil
}

func parseSrcIPPart(part string) ([]netip.Addr, error) {
	if n, err := strconv.Atoi(part); err == nil {
		if n < 1 || n > 254 {
			return nil, fmt.Errorf("a count must be 1..254 (127.0.0.1..127.0.0.n); give a range for more")
		}
		first := netip.AddrFrom4([4]byte{127, 0, 0, 1})
		return addrRange(first, netip.AddrFrom4([4]byte{127, 0, 0, byte(n)}))
	}
	loS, hiS, isRange := strings.Cut(part, "-")
	lo, err := netip.ParseAddr(strings.TrimSpace(loS))
	if err != nil {
		return nil, fmt.Errorf("want a count, an address or a range a.b.c.d-a.b.c.e: %w", err)
	}
	if !isRange {
		return []netip.Addr{lo}, nil
	}
	hi, err := netip.ParseAddr(strings.TrimSpace(hiS))
	if err != nil {
		return nil, fmt.Errorf("range end: %w", err)
	}
	return addrRange(lo, hi)
}

// addrRange lists lo..hi inclusive.
func addrRange(lo, hi netip.Addr) ([]netip.Addr, error) {
	if lo.Is4() != hi.Is4() {
		return nil, fmt.Errorf("range mixes IPv4 and IPv6")
	}
	if hi.Less(lo) {
		return nil, fmt.Errorf("range goes down (%s > %s)", lo, hi)
	}
	var out []netip.Addr
	for a := lo; ; a = a.Next() {
		if len(out) == maxSrcIPs {
			return nil, fmt.Errorf("range holds more than %d addresses", maxSrcIPs)
		}
		out = append(out, a)
		if a == hi {
			return out, nil
		}
	}
}
