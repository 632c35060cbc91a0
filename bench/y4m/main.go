// Command y4m writes the agent app's test pattern (media/pattern.go, what `-devices test-pattern`
// sends) as a YUV4MPEG2 file, so a Chromium agent started with
// --use-file-for-fake-video-capture=FILE sends the same pixels as the app: bench/app.mjs gives both
// agents' VP8 encoders the same work. Chromium loops the file; the default 64 frames are one
// period of the pattern's moving bars, so only the bouncing box jumps where the loop restarts.
//
// Usage: y4m -o FILE.y4m [-size 640x480] [-fps 30] [-frames 64]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/parleyhq/parley/media"
)

func main() {
	var out, size string
	var fps, frames int
	flag.StringVar(&out, "o", "", "the file to write (.y4m)")
	flag.StringVar(&size, "size", "640x480", "picture size, WxH (even)")
	flag.IntVar(&fps, "fps", 30, "frame rate written in the header")
	flag.IntVar(&frames, "frames", 64, "frames to write (Chromium loops them)")
	flag.Parse()
	var w, h int
	if _, err := fmt.Sscanf(size, "%dx%d", &w, &h); err != nil || out == "" || w < 128 || h <= 0 || w%2+h%2 != 0 || fps <= 0 || frames <= 0 {
		fmt.Fprintln(os.Stderr, "y4m: -o FILE is required; -size WxH even, at least 128 wide; -fps and -frames above 0")
		os.Exit(2)
	}
	if err := write(out, w, h, fps, frames); err != nil {
		fmt.Fprintln(os.Stderr, "y4m:", err)
		os.Exit(1)
	}
}

// write draws frames of the pattern, stamped 1/fps apart as the app's camera stamps them, into
// out: the header, then per frame "FRAME" and the Y, Cb and Cr planes (4:2:0, C420jpeg as
// Chromium's file capture reads it).
func write(out string, w, h, fps, frames int) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	b := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(b, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", w, h, fps)
	p := media.NewPattern(w, h)
	t := time.Now()
	for range frames {
		img := p.Draw(t)
		t = t.Add(time.Second / time.Duration(fps))
		b.WriteString("FRAME\n")
		// NewPattern's pictures have no padding: each plane is stride x rows, as y4m lays it out.
		b.Write(img.Y)
		b.Write(img.Cb)
		b.Write(img.Cr)
	}
	if err := b.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
