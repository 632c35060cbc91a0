package chatsim

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Histogram summarises one of the hub's latency histograms from its /metrics at url: how many
// observations, and the share within each of bounds (bucket bounds in seconds, as /metrics
// writes them, e.g. "0.001").
func Histogram(url, name string, bounds ...string) (string, error) {
	res, err := http.Get(url + "/metrics")
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var total float64
	counts := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name+`_bucket{le="`); ok {
			le, val, _ := strings.Cut(rest, `"} `)
			counts[le], _ = strconv.ParseFloat(val, 64)
		}
		if val, ok := strings.CutPrefix(line, name+"_count "); ok {
			total, _ = strconv.ParseFloat(val, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if total == 0 {
		return "", errors.New("no histogram")
	}
	parts := []string{fmt.Sprintf("%.0f", total)}
	for _, le := range bounds {
		parts = append(parts, fmt.Sprintf("%.2f%% within %s s", 100*counts[le]/total, le))
	}
	return strings.Join(parts, ", "), nil
}
