package sqldb

import "testing"

func TestRenumber(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`UPDATE t SET a = ? WHERE b = ? AND c != ?`, `UPDATE t SET a = $1 WHERE b = $2 AND c != $3`},
		{`SELECT '?' FROM t WHERE "a?" = ? AND b LIKE ? ESCAPE '\'`, `SELECT '?' FROM t WHERE "a?" = $1 AND b LIKE $2 ESCAPE '\'`},
		{`VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`},
	} {
		if got := Renumber(tt.in); got != tt.want {
			t.Errorf("Renumber(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
