// Command xstamp reads the stamp of Parley's test pattern (media/pattern.go, and the same stamp
// drawn by the benchmark's customer) from the pixels an X display shows in a rectangle: what a
// person would see on the screen, after the decoder, the page and the compositor. For each new
// frame it prints one JSON line: {"at": wall-clock ms when seen, "stamp": ms the frame was
// captured, "frame": its counter}. bench/app.mjs uses it for setup (first frame painted) and
// glass-to-glass latency of the agent app's window and of a Chromium agent's window.
//
// Usage: xstamp -rect X,Y,W,H [-for 10s] [-first] (DISPLAY and XAUTHORITY name the display)
package main

/*
#cgo pkg-config: x11
#include <stdlib.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

static unsigned long pixel(XImage *im, int x, int y) { return XGetPixel(im, x, y); }
static void destroy(XImage *im) { XDestroyImage(im); }
*/
import "C"

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"os"
	"time"

	"github.com/parleyhq/parley/media"
)

// ximage is an XImage as an image.Image (24-bit TrueColor: 0xRRGGBB pixels).
type ximage struct {
	im   *C.XImage
	w, h int
}

func (x ximage) ColorModel() color.Model { return color.RGBAModel }
func (x ximage) Bounds() image.Rectangle { return image.Rect(0, 0, x.w, x.h) }
func (x ximage) At(px, py int) color.Color {
	p := uint32(C.pixel(x.im, C.int(px), C.int(py)))
	return color.RGBA{R: uint8(p >> 16), G: uint8(p >> 8), B: uint8(p), A: 255}
}

func main() {
	var rect string
	var dur time.Duration
	var first bool
	flag.StringVar(&rect, "rect", "", "the picture's rectangle on the screen: X,Y,W,H")
	flag.DurationVar(&dur, "for", 10*time.Second, "how long to watch")
	flag.BoolVar(&first, "first", false, "stop at the first stamped frame")
	flag.Parse()
	var x, y, w, h int
	if _, err := fmt.Sscanf(rect, "%d,%d,%d,%d", &x, &y, &w, &h); err != nil || w <= 0 || h <= 0 {
		fmt.Fprintln(os.Stderr, "xstamp: -rect X,Y,W,H is required")
		os.Exit(2)
	}
	dpy := C.XOpenDisplay(nil)
	if dpy == nil {
		fmt.Fprintln(os.Stderr, "xstamp: cannot open the display $DISPLAY")
		os.Exit(1)
	}
	defer C.XCloseDisplay(dpy)
	root := C.XDefaultRootWindow(dpy)
	// Only the stamp band is read: its top 24 of 480 rows, scaled to the picture's height.
	band := max(h*24/480, 3)
	enc := json.NewEncoder(os.Stdout)
	end := time.Now().Add(dur)
	last := -1
	for time.Now().Before(end) {
		im := C.XGetImage(dpy, C.Drawable(root), C.int(x), C.int(y), C.uint(w), C.uint(band), C.AllPlanes, C.ZPixmap)
		now := time.Now()
		if im == nil {
			fmt.Fprintln(os.Stderr, "xstamp: XGetImage failed")
			os.Exit(1)
		}
		t, frame, ok := media.ReadStamp(scaled{ximage{im, w, band}, h})
		C.destroy(im)
		if ok && int(frame) != last && now.Sub(t) < time.Minute && now.Sub(t) > -time.Second {
			last = int(frame)
			_ = enc.Encode(map[string]int64{"at": now.UnixMilli(), "stamp": t.UnixMilli(), "frame": int64(frame)})
			if first {
				return
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// scaled reports the band as the top of a picture h rows high. ReadStamp reads a third of the
// way down the band; scaled hands it the band's middle row instead, clear of a view's rounded
// corners (the app's call control clips the picture at a 10 px radius).
type scaled struct {
	ximage
	h int
}

func (s scaled) Bounds() image.Rectangle { return image.Rect(0, 0, s.w, s.h) }
func (s scaled) At(x, y int) color.Color {
	y = min(y*3/2, s.ximage.h-1)
	return s.ximage.At(x, y)
}
