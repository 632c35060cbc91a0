package app

import (
	"testing"

	"github.com/parleyhq/parley/wire"
)

func TestCredentialOrigin(t *testing.T) {
	for _, tt := range []struct {
		name          string
		p             wire.ExternalProvider
		origin, hosts string
		wantInsecure  bool
	}{
		{"verify and session on one host", wire.ExternalProvider{VerifyURL: "https://Acme.example/api/me", SessionURL: "https://acme.example/api/sessions"},
			"https://acme.example", "Acme.example", false},
		{"two hosts", wire.ExternalProvider{VerifyURL: "https://id.acme.example/me", SessionURL: "https://api.acme.example/s"},
			"https://id.acme.example https://api.acme.example", "id.acme.example, api.acme.example", false},
		{"sign-in page only", wire.ExternalProvider{SignInURL: "https://acme.example/login"}, "https://acme.example", "acme.example", false},
		{"a port is part of the origin", wire.ExternalProvider{SessionURL: "https://acme.example:8443/s"}, "https://acme.example:8443", "acme.example:8443", false},
		{"http on loopback", wire.ExternalProvider{SessionURL: "http://127.0.0.1:9000/s"}, "http://127.0.0.1:9000", "127.0.0.1:9000", false},
		{"http elsewhere", wire.ExternalProvider{VerifyURL: "https://acme.example/me", SessionURL: "http://acme.example/s"}, "", "acme.example", true},
		{"http to a private address", wire.ExternalProvider{SessionURL: "http://10.0.0.5/s"}, "", "10.0.0.5", true},
	} {
		origin, hosts, err := credentialOrigin(&tt.p)
		if (err == ErrProviderInsecure) != tt.wantInsecure || origin != tt.origin || hosts != tt.hosts {
			t.Errorf("%s: credentialOrigin = %q, %q, %v; want %q, %q, insecure=%v", tt.name, origin, hosts, err, tt.origin, tt.hosts, tt.wantInsecure)
		}
	}
}
