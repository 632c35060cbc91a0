// Command transport measures what it costs WebKitGTK (the engine of the agent app's window on
// Linux) to show a call's video by each way Go can hand it frames, on the same frames at the same
// rate: the MJPEG <img> the app uses (media.Bridge), JPEGs over a WebSocket drawn to a canvas,
// JPEGs pulled one at a time (fetch, long-polled) drawn to a canvas, and the same pulled JPEGs
// swapped into an <img>. For each it prints the CPU of WebKit's whole process tree (MiniBrowser,
// WebKitWebProcess, WebKitNetworkProcess) and of this process, frames painted per second and,
// where the page can see when a frame was made, its age when drawn.
//
// It runs Debian's MiniBrowser (package libwebkit2gtk-4.1-0) under its own Xvfb with compositing
// off, as the app runs its webview (Wails' WebviewGpuPolicyNever).
//
// Two more modes add the call's self view, a second MJPEG <img> of a second source (the camera:
// its own 30 fps clock, half a frame behind the first) at 30% of the width and 15 fps: "self"
// sends its every other frame as it comes, "selfalign" sends the newest self picture right after
// every other remote frame, so the page gets both pictures' changes at once.
//
// Usage: transport [-seconds 10] [-width 324] [-modes mjpeg,ws,pull,img,self,selfalign]
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/media/codec/jpeg"
)

const miniBrowser = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"

func main() {
	secs := flag.Int("seconds", 10, "length of each measurement")
	width := flag.Int("width", 324, "width the picture is shown at (the floating call control's)")
	modes := flag.String("modes", "mjpeg,ws,pull,img,self,selfalign", "transports to measure")
	flag.Parse()
	if err := run(time.Duration(*secs)*time.Second, *width, strings.Split(*modes, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "transport:", err)
		os.Exit(1)
	}
}

// source makes 30 frames a second: the test pattern (its stamp moves every frame), shrunk to the
// shown width and JPEG-encoded once, as media.Bridge does.
type source struct {
	mu     sync.Mutex
	seq    uint64
	jpg    []byte
	made   time.Time
	notify chan struct{}
}

func (s *source) run(ctx context.Context, width int, delay time.Duration) error {
	enc, err := jpeg.NewEncoder()
	if err != nil {
		return err
	}
	p := media.NewPattern(640, 480)
	time.Sleep(delay)
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now := time.Now()
		j, err := enc.Encode(nil, media.Downscale(p.Draw(now), width), 75)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.seq++
		s.jpg, s.made = j, now
		close(s.notify)
		s.notify = make(chan struct{})
		s.mu.Unlock()
	}
}

// after waits for a frame newer than seq.
func (s *source) after(ctx context.Context, seq uint64) ([]byte, uint64, time.Time, bool) {
	for {
		s.mu.Lock()
		if s.seq > seq {
			j, n, t := s.jpg, s.seq, s.made
			s.mu.Unlock()
			return j, n, t, true
		}
		ch := s.notify
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, 0, time.Time{}, false
		}
	}
}

// stats is what the page reports: frames drawn and, per frame, ms from made to drawn.
type stats struct {
	mu     sync.Mutex
	frames int
	ages   []float64
}

func run(window time.Duration, width int, modes []string) error {
	if _, err := os.Stat(miniBrowser); err != nil {
		return fmt.Errorf("%s is missing (apt install libwebkit2gtk-4.1-0)", miniBrowser)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &source{notify: make(chan struct{})}
	go func() { _ = src.run(ctx, width, 0) }()
	self := &source{notify: make(chan struct{})}
	go func() { _ = self.run(ctx, width*3/10, time.Second/60) }()
	st := &stats{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler(src, self, st, width)}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	display, stopX, err := startX()
	if err != nil {
		return err
	}
	defer stopX()

	fmt.Printf("transport: %dx%d JPEG frames at 30 fps into WebKitGTK %s (MiniBrowser, compositing off), %s each\n\n",
		width, width*3/4, webkitVersion(), window)
	fmt.Printf("%-44s %9s %9s %9s %7s %11s %11s\n", "", "WebKit", "this Go", "total", "fps", "age median", "age p95")
	for _, mode := range modes {
		r, err := measure(ctx, display, fmt.Sprintf("http://%s/?mode=%s", ln.Addr(), mode), window, st)
		if err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		age := func(v float64) string {
			if v < 0 {
				return "-"
			}
			return fmt.Sprintf("%.0f ms", v)
		}
		fmt.Printf("%-44s %8.1f%% %8.1f%% %8.1f%% %7.1f %11s %11s\n", describe[mode], r.webkit, r.self, r.webkit+r.self, r.fps, age(r.ageMed), age(r.ageP95))
	}
	fmt.Println("\nCPU in % of one core. fps: frames the page drew (for the MJPEG <img>, frames the stream sent).")
	fmt.Println("age: from the frame's making in Go to the page's draw call returning (not to the screen).")
	return nil
}

var describe = map[string]string{
	"mjpeg":     "MJPEG stream into an <img> (the app today)",
	"ws":        "JPEG over a WebSocket, drawn to a canvas",
	"pull":      "JPEG pulled by fetch, drawn to a canvas",
	"img":       "JPEG pulled by fetch, swapped into an <img>",
	"self":      "MJPEG <img> + self view (15 fps, own clock)",
	"selfalign": "MJPEG <img> + self view sent with remote",
}

type result struct {
	webkit, self, fps, ageMed, ageP95 float64
}

func measure(ctx context.Context, display, url string, window time.Duration, st *stats) (result, error) {
	cmd := exec.Command(miniBrowser, url)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "WEBKIT_DISABLE_COMPOSITING_MODE=1", "GDK_BACKEND=x11")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var errs strings.Builder
	cmd.Stderr = &errs
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	// Let the page load and settle.
	deadline := time.Now().Add(60 * time.Second)
	for {
		st.mu.Lock()
		n := st.frames
		st.mu.Unlock()
		if n > 30 {
			break
		}
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("the page drew nothing in 60 s; MiniBrowser said: %s", errs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	st.mu.Lock()
	st.frames, st.ages = 0, nil
	st.mu.Unlock()
	t0, wk0, self0 := time.Now(), treeCPU(cmd.Process.Pid), selfCPU()
	time.Sleep(window)
	el, wk1, self1 := time.Since(t0), treeCPU(cmd.Process.Pid), selfCPU()
	st.mu.Lock()
	frames, ages := st.frames, append([]float64(nil), st.ages...)
	st.mu.Unlock()
	r := result{
		webkit: 100 * (wk1 - wk0).Seconds() / el.Seconds(),
		self:   100 * (self1 - self0).Seconds() / el.Seconds(),
		fps:    float64(frames) / el.Seconds(),
		ageMed: -1, ageP95: -1,
	}
	if len(ages) > 0 {
		sort.Float64s(ages)
		r.ageMed, r.ageP95 = ages[len(ages)/2], ages[min(len(ages)-1, len(ages)*95/100)]
	}
	return r, nil
}

func handler(src, self *source, st *stats, width int) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, page, width, width*3/4, r.URL.Query().Get("mode"), width*3/10, width*3/10*3/4)
	})
	// The self view at 15 fps: every other frame of its own source, or (?align=1) its newest
	// picture right after every other frame of the remote source.
	mux.HandleFunc("GET /self", func(w http.ResponseWriter, r *http.Request) {
		part := mjpeg(w)
		align := r.URL.Query().Get("align") == "1"
		var seq, rseq uint64
		for {
			var j []byte
			var n uint64
			var ok bool
			if align {
				if _, rseq, _, ok = src.after(r.Context(), rseq); !ok {
					return
				}
				if rseq%2 == 1 {
					continue
				}
				j, n, _, ok = self.after(r.Context(), 0)
			} else {
				j, n, _, ok = self.after(r.Context(), seq)
				if ok && n%2 == 1 {
					seq = n
					continue
				}
			}
			if !ok {
				return
			}
			seq = n
			if !part(j) {
				return
			}
		}
	})
	// The MJPEG stream, as media.Bridge sends it (each part followed at once by the boundary).
	mux.HandleFunc("GET /mjpeg", func(w http.ResponseWriter, r *http.Request) {
		part := mjpeg(w)
		var seq uint64
		for {
			j, n, _, ok := src.after(r.Context(), seq)
			if !ok {
				return
			}
			seq = n
			if !part(j) {
				return
			}
			st.mu.Lock()
			st.frames++
			st.mu.Unlock()
		}
	})
	// One frame newer than ?after=, with when it was made.
	mux.HandleFunc("GET /frame", func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
		j, n, made, ok := src.after(r.Context(), after)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Seq", strconv.FormatUint(n, 10))
		w.Header().Set("X-Made", strconv.FormatInt(made.UnixMicro(), 10))
		_, _ = w.Write(j)
	})
	// Frames over a WebSocket: 8 bytes of when it was made (µs), then the JPEG. A frame goes only
	// when the page has drawn the previous one (it sends a byte), so none queue.
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var seq uint64
		buf := make([]byte, 0, 64<<10)
		for {
			j, n, made, ok := src.after(r.Context(), seq)
			if !ok {
				return
			}
			seq = n
			buf = binary.BigEndian.AppendUint64(buf[:0], uint64(made.UnixMicro()))
			buf = append(buf, j...)
			if err := c.Write(r.Context(), websocket.MessageBinary, buf); err != nil {
				return
			}
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("POST /drawn", func(w http.ResponseWriter, r *http.Request) {
		var d struct {
			Frames int       `json:"frames"`
			Ages   []float64 `json:"ages"`
		}
		if json.NewDecoder(r.Body).Decode(&d) == nil {
			st.mu.Lock()
			st.frames += d.Frames
			st.ages = append(st.ages, d.Ages...)
			st.mu.Unlock()
		}
	})
	return mux
}

// page shows the picture by the mode's way and reports what it drew once a second.
const page = `<!doctype html><html><body style="margin:0;background:#222">
<img id="i" width="%[1]d" height="%[2]d" style="display:none"><img id="s" width="%[4]d" height="%[5]d" style="display:none;position:fixed;left:%[4]dpx;top:%[5]dpx"><canvas id="c" width="%[1]d" height="%[2]d" style="display:none"></canvas>
<script>
const mode = %[3]q, self = document.getElementById('s'), img = document.getElementById('i'), cv = document.getElementById('c'), g = cv.getContext('2d');
let frames = 0, ages = [];
setInterval(() => { if (mode === 'mjpeg' || mode.startsWith('self')) return; fetch('/drawn', {method: 'POST', body: JSON.stringify({frames, ages})}); frames = 0; ages = []; }, 1000);
const drew = (made) => { frames++; ages.push(Date.now() - made / 1000); };
if (mode === 'mjpeg' || mode.startsWith('self')) { img.style.display = ''; img.src = '/mjpeg'; }
if (mode.startsWith('self')) { self.style.display = ''; self.src = '/self?align=' + (mode === 'selfalign' ? 1 : 0); }
if (mode === 'ws') {
  cv.style.display = '';
  const ws = new WebSocket('ws://' + location.host + '/ws'); ws.binaryType = 'arraybuffer';
  ws.onmessage = async (e) => {
    const made = Number(new DataView(e.data).getBigUint64(0));
    const bmp = await createImageBitmap(new Blob([new Uint8Array(e.data, 8)], {type: 'image/jpeg'}));
    g.drawImage(bmp, 0, 0); bmp.close(); drew(made); ws.send('k');
  };
}
if (mode === 'pull' || mode === 'img') {
  (mode === 'pull' ? cv : img).style.display = '';
  (async () => {
    let seq = 0, url = '';
    for (;;) {
      const r = await fetch('/frame?after=' + seq); seq = Number(r.headers.get('X-Seq')); const made = Number(r.headers.get('X-Made'));
      const b = await r.blob();
      if (mode === 'pull') { const bmp = await createImageBitmap(b); g.drawImage(bmp, 0, 0); bmp.close(); }
      else { const u = URL.createObjectURL(b); const n = new Image(); n.src = u; await n.decode(); img.src = u; if (url) URL.revokeObjectURL(url); url = u; }
      drew(made);
    }
  })();
}
</script></body></html>`

// startX starts a private Xvfb on a free display number and returns its display.
func startX() (string, func(), error) {
	for n := 140 + os.Getpid()%50; n < 400; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		d := fmt.Sprintf(":%d", n)
		x := exec.Command("Xvfb", d, "-screen", "0", "1280x800x24", "-nolisten", "tcp")
		if err := x.Start(); err != nil {
			return "", nil, fmt.Errorf("Xvfb: %w", err)
		}
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
				return d, func() { _ = x.Process.Kill(); _ = x.Wait() }, nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = x.Process.Kill()
		_ = x.Wait()
	}
	return "", nil, fmt.Errorf("no free X display")
}

// treeCPU is the CPU time of pid and every process below it.
func treeCPU(pid int) time.Duration {
	children := map[int][]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	stat := map[int][]string{}
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+2:])
		p, _ := strconv.Atoi(strings.Fields(s)[0])
		pp, _ := strconv.Atoi(f[1])
		children[pp] = append(children[pp], p)
		stat[p] = f
	}
	var total time.Duration
	var walk func(int)
	walk = func(p int) {
		if f := stat[p]; len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			total += time.Duration(u+s) * time.Second / 100 // USER_HZ
		}
		for _, c := range children[p] {
			walk(c)
		}
	}
	walk(pid)
	return total
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func webkitVersion() string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "libwebkit2gtk-4.1-0").Output()
	if err != nil {
		return "?"
	}
	return string(out)
}

// mjpeg starts an MJPEG response on w and returns what sends one picture as its part, followed
// at once by the next boundary (as media.Bridge sends them); false once the viewer is gone.
func mjpeg(w http.ResponseWriter) func(j []byte) bool {
	w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary=f")
	fl := w.(http.Flusher)
	fmt.Fprint(w, "--f\r\n")
	return func(j []byte) bool {
		if _, err := fmt.Fprintf(w, "Content-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n--f\r\n", len(j), j); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
}
