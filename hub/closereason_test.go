package hub

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCloseReason(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want int // length of the result
	}{
		{"short", "token expired", 13},
		{"exactly 123", strings.Repeat("a", 123), 123},
		{"long ascii", strings.Repeat("a", 300), 123},
		{"multibyte at the cut", strings.Repeat("a", 122) + "é" + "tail", 122},
	} {
		got := closeReason(tc.in)
		if len(got) != tc.want || !utf8.ValidString(got) || !strings.HasPrefix(tc.in, got) {
			t.Errorf("%s: got %d bytes (valid UTF-8 %v), want a prefix of %d bytes", tc.name, len(got), utf8.ValidString(got), tc.want)
		}
	}
}
