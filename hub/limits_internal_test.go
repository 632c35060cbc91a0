package hub

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	for _, tc := range []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"direct", "203.0.113.7:5000", "", proxies, "203.0.113.7"},
		{"a customer's own header is not believed", "203.0.113.7:5000", "198.51.100.1", proxies, "203.0.113.7"},
		{"through a trusted proxy", "127.0.0.1:5000", "198.51.100.1", proxies, "198.51.100.1"},
		{"through two trusted proxies; a forged first hop is skipped", "127.0.0.1:5000", "6.6.6.6, 198.51.100.1, 10.1.2.3", proxies, "198.51.100.1"},
		{"no proxies trusted", "127.0.0.1:5000", "198.51.100.1", nil, "127.0.0.1"},
		{"IPv6 counts by /64", "[2001:db8:1:2:aaaa::1]:5000", "", nil, "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6", "[::ffff:203.0.113.9]:5000", "", nil, "203.0.113.9"},
		{"garbage in the header stops the walk", "127.0.0.1:5000", "nonsense", proxies, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := clientAddress(r, tc.trusted); got != tc.want {
				t.Errorf("clientAddress = %q; want %q", got, tc.want)
			}
		})
	}
}
