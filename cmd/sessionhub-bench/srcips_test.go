package main

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseSrcIPs(t *testing.T) {
	tests := []struct {
		in        string
		wantN     int
		wantFirst string
		wantLast  string
	}{
		{"", 0, "", ""},
		{"3", 3, "127.0.0.1", "127.0.0.3"},
		{"254", 254, "127.0.0.1", "127.0.0.254"},
		{"127.0.0.1-127.0.0.50", 50, "127.0.0.1", "127.0.0.50"},
		{" 127.0.0.5 - 127.0.0.5 ", 1, "127.0.0.5", "127.0.0.5"},
		{"127.0.0.250-127.0.1.4", 11, "127.0.0.250", "127.0.1.4"},
		{"127.0.0.9", 1, "127.0.0.9", "127.0.0.9"},
		{"127.0.0.1-127.0.0.2,127.0.0.7", 3, "127.0.0.1", "127.0.0.7"},
		{"::1", 1, "::1", "::1"},
	}
	for _, tt := range tests {
		got, err := parseSrcIPs(tt.in)
		if err != nil {
			t.Errorf("parseSrcIPs(%q): %v", tt.in, err)
			continue
		}
		if len(got) != tt.wantN {
			t.Errorf("parseSrcIPs(%q) gave %d addresses, want %d", tt.in, len(got), tt.wantN)
			continue
		}
		if tt.wantN == 0 {
			continue
		}
		if first, last := got[0].String(), got[len(got)-1].String(); first != tt.wantFirst || last != tt.wantLast {
			t.Errorf("parseSrcIPs(%q) = %s..%s, want %s..%s", tt.in, first, last, tt.wantFirst, tt.wantLast)
		}
	}
}

func TestParseSrcIPsRejects(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"0", "count must be"},
		{"255", "count must be"},
		{"-3", "count must be"},
		{"127.0.0.50-127.0.0.1", "goes down"},
		{"127.0.0.1-::1", "mixes"},
		{"localhost", "want a count"},
		{"127.0.0.1-", "range end"},
		{"10.0.0.0-10.255.255.255", "more than"},
		{"127.0.0.1-127.0.0.1\n<script>", "range end"},
	}
	for _, tt := range tests {
		got, err := parseSrcIPs(tt.in)
		if err == nil {
			t.Errorf("parseSrcIPs(%q) = %d addresses, want an error containing %q", tt.in, len(got), tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("parseSrcIPs(%q) error %q, want it to contain %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestAddrRangeIsContiguous(t *testing.T) {
	got, err := parseSrcIPs("127.0.0.1-127.0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1].Next() {
			t.Fatalf("address %d is %s after %s, want consecutive addresses", i, got[i], got[i-1])
		}
	}
	if want := netip.MustParseAddr("127.0.2.0"); got[len(got)-1] != want {
		t.Errorf("last = %s, want %s", got[len(got)-1], want)
	}
}
