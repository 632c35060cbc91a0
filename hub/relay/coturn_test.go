package relay

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestCoturnClientInterop has coturn's test client allocate through the embedded server with a
// TURN REST credential it derives from the shared secret (-W), and send packets between two of
// its own allocations (-y), so every packet crosses the relay twice.
func TestCoturnClientInterop(t *testing.T) {
	bin, err := exec.LookPath("turnutils_uclient")
	if err != nil {
		t.Skip("turnutils_uclient not installed (apt coturn; mk/relay.mk installs it)")
	}
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, nil)
			port := s.UDPAddr().Port
			args := []string{"-y", "-c", "-X", "-W", testSecret, "-u", "interop", "-n", "20", "-l", "120", "-z", "5"}
			if transport == "tcp" {
				port = s.TCPAddr().Port
				args = append(args, "-t")
			}
			args = append(args, "-p", strconv.Itoa(port), "127.0.0.1")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
			t.Logf("%s %q:\n%s", bin, args, out)
			if err != nil {
				t.Fatalf("turnutils_uclient: %v", err)
			}
			m := regexp.MustCompile(`Total lost packets (\d+)`).FindSubmatch(out)
			if m == nil {
				t.Fatal("no packet totals in turnutils_uclient's output")
			}
			if string(m[1]) != "0" {
				t.Errorf("turnutils_uclient lost %s packets through the relay", m[1])
			}
			if st := s.Stats(); st.AllocationsTotal < 2 || st.BytesToPeers < 20*120 {
				t.Errorf("server stats %+v; want 2 allocations and 2400+ bytes relayed", st)
			}
		})
	}
	t.Run("wrong secret", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "-y", "-c", "-X", "-W", "not-the-secret", "-u", "interop", "-n", "5",
			"-p", strconv.Itoa(s.UDPAddr().Port), "127.0.0.1").CombinedOutput()
		if err == nil || ctx.Err() != nil {
			t.Errorf("turnutils_uclient with a wrong secret: %v (timeout: %v); want it refused:\n%s", err, ctx.Err(), out)
		}
		if st := s.Stats(); st.AllocationsTotal != 0 || st.AuthRefused == 0 {
			t.Errorf("server stats %+v; want no allocation and the credential refused", st)
		}
	})
}
