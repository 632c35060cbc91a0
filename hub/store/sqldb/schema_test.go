package sqldb

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// shipped are the SHA-256 of each migration as shipped, in each engine's words. A migration that
// has shipped never changes (databases already hold it): add a new one and its hashes here.
var shipped = map[string][]string{
	"postgres": {
		"006d34b2ff06ed84787bae09d3e9b95993661c869d0697fbd067e675b2d9073f",
		"8a07fff7e6c9ec086db53153db2c52dcf29cd018f51ec73350ee5c8617e1b70f",
		"8cee58f02f137e80ae8cb655decd031b1346587938577ff9cb7e93206faca49a",
		"af1f093673b6284a628660189ddff4f3c2b8cb9a7adc31d395d4499009f0c582",
		"c54df1a6386a88c8aa724e039af568fc4abfb5a605413f1acf3db4af2f488a62",
		"025cb32009b5ea52c241a6f71701a462f4447dbfd453a24597f4d6309f45a53a",
		"20dc7b4e47827a356e6f3f118aff0510f256d6caa8790ae7af960de597634cd8",
		"1250ffc5561d2b29c9b89e79656667f2253e1b436cfc0411890ebfa863f8b6c0",
	},
	"sqlite": {
		"968ee031ed66efd1d8589fc1cdf4e26d510e41cf52cef840fd436fe3a1deee36",
		"56515f8714e4e7dcf93ab1f2b18898e3754cbce9e09f4e362abeccf500df6f2e",
		"1557761f72787139df368b7581b52899e142cc20e5b93cb3855db8503438996a",
		"c4f95d31d42b0159e6d7503613b881b5222ba482cbc85a66c39ecaacfcf44af1",
		"4b738a4581d011718c74fd84f5e07e939047be9665fd66404fa9452118ce914a",
		"1d91cae680295861667dbe95d297dcca714609db7761c036f18297d2cdac62aa",
		"da56d35f19b01998e15ffac403a8dcca2efb31994d232761d32352846074d7ba",
		"5de51f995f79eec24e3c82058234175bd955f843d604df77e809b1388178b3e0",
	},
}

// TestShippedMigrationsUnchanged checks that rendering the one schema for two engines gives, for
// every migration that has shipped, exactly the text each engine shipped.
func TestShippedMigrationsUnchanged(t *testing.T) {
	for name, d := range map[string]Dialect{"postgres": PostgreSQL, "sqlite": SQLite} {
		ms := Migrations(d)
		if len(ms) < len(shipped[name]) {
			t.Fatalf("%s: %d migrations; %d have shipped", name, len(ms), len(shipped[name]))
		}
		for i, want := range shipped[name] {
			if got := fmt.Sprintf("%x", sha256.Sum256([]byte(ms[i]))); got != want {
				t.Errorf("%s migration %d: sha256 %s; shipped %s (a shipped migration changed)", name, i+1, got, want)
			}
		}
	}
}
