package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	// Fields 14 and 15 (utime, stime) are 250 and 50 ticks; the name holds ") (".
	stat := "1234 (my) (proc) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 1000000 200 18446744073709551615"
	got, err := parseStatCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3.0; got != want {
		t.Errorf("parseStatCPU = %v s, want %v", got, want)
	}
	for _, bad := range []string{"", "1234 noparen S 1", "1 (x) S 1 2 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 xx 50 0"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) succeeded, want an error", bad)
		}
	}
}

func TestReadProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system: --pid is Linux only")
	}
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSBytes <= 0 {
		t.Errorf("RSS of this process = %d, want > 0", s.RSSBytes)
	}
	if _, err := readProc(1 << 30); err == nil || !strings.Contains(err.Error(), "is it running") {
		t.Errorf("readProc(no such pid) error = %v, want one asking whether it runs", err)
	}
}

func TestParseETag(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{`"1"`, 1, false},
		{`"12345"`, 12345, false},
		{``, 0, true},
		{`1`, 0, true},
		{`W/"1"`, 0, true},
		{`"0"`, 0, true},
		{`"-3"`, 0, true},
		{`"x"`, 0, true},
	}
	for _, tt := range tests {
		got, err := parseETag(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseETag(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
