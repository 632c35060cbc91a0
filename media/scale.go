package media

import (
	"encoding/binary"
	"image"
)

// Downscale returns img shrunk to width w (height keeping the aspect, both even), each output
// sample the average of the input samples it covers (a box filter: no aliasing shimmer on the
// moving picture, unlike picking one sample). img itself is returned when it is not wider than
// w. The render bridge shrinks frames to the size a view shows before JPEG-encoding them: a
// 640x480 call shown 320 px wide costs a quarter of the encoding, sending and decoding.
//
// A width up to an eighth above half the picture's gets exactly half (a 640x480 call shown 324
// px wide: 320x240): halving has a fast path (half), and the view scales the picture to its box
// anyway (object-fit), so the few pixels it makes up cost it nothing more.
func Downscale(img *image.YCbCr, w int) *image.YCbCr {
	sw, sh := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || w >= sw || img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return img
	}
	if hw := sw / 2; sw%4 == 0 && sh%4 == 0 && w >= hw && w <= hw+hw/8 {
		w = hw
	}
	w &^= 1
	h := (sh * w / sw) &^ 1
	if w < 2 || h < 2 {
		return img
	}
	out := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	shrink := box
	if 2*w == sw && 2*h == sh {
		shrink = half
	}
	shrink(out.Y, out.YStride, w, h, img.Y[img.YOffset(img.Rect.Min.X, img.Rect.Min.Y):], img.YStride, sw, sh)
	cw, ch := (sw+1)/2, (sh+1)/2
	co := img.COffset(img.Rect.Min.X, img.Rect.Min.Y)
	shrink(out.Cb, out.CStride, w/2, h/2, img.Cb[co:], img.CStride, cw, ch)
	shrink(out.Cr, out.CStride, w/2, h/2, img.Cr[co:], img.CStride, cw, ch)
	return out
}

// half is box for exactly half the width and height (sw = 2*dw, sh = 2*dh): each output sample
// the rounded mean of a 2x2 square, four at a time from eight bytes of each of two rows (the
// sums in 16-bit lanes of a uint64). About 20 times faster than box at 640x480.
func half(dst []byte, dstride, dw, dh int, src []byte, sstride, _, _ int) {
	const lo = 0x00ff00ff00ff00ff
	for y := 0; y < dh; y++ {
		r0 := src[2*y*sstride : 2*y*sstride+2*dw]
		r1 := src[(2*y+1)*sstride : (2*y+1)*sstride+2*dw]
		drow := dst[y*dstride : y*dstride+dw]
		x := 0
		for ; x+4 <= dw; x += 4 {
			a := binary.LittleEndian.Uint64(r0[2*x:])
			b := binary.LittleEndian.Uint64(r1[2*x:])
			s := (a&lo + a>>8&lo + b&lo + b>>8&lo + 0x0002000200020002) >> 2 & lo
			s = (s | s>>8) & 0x0000ffff0000ffff
			binary.LittleEndian.PutUint32(drow[x:], uint32(s|s>>16))
		}
		for ; x < dw; x++ {
			drow[x] = byte((uint32(r0[2*x]) + uint32(r0[2*x+1]) + uint32(r1[2*x]) + uint32(r1[2*x+1]) + 2) >> 2)
		}
	}
}

// box averages a sw x sh plane into a dw x dh one (dw <= sw, dh <= sh): output sample (x, y) is
// the mean of input columns [x*sw/dw, (x+1)*sw/dw) and rows [y*sh/dh, (y+1)*sh/dh), rounded.
// Each output row first sums its input rows column by column (a straight loop the compiler
// keeps tight), then adds up each output sample's columns and divides by multiplying with a
// reciprocal: a division per sample cost more than the rest together (4 % of a core at 30 fps).
func box(dst []byte, dstride, dw, dh int, src []byte, sstride, sw, sh int) {
	// xs[x] .. xs[x+1] are the input columns of output column x.
	xs := make([]int, dw+1)
	maxCols := 0
	for x := range xs {
		xs[x] = x * sw / dw
		if x > 0 {
			maxCols = max(maxCols, xs[x]-xs[x-1])
		}
	}
	maxRows := (sh + dh - 1) / dh
	// recip[n] is 2^24/n rounded: sum*recip[n] >> 24 is sum/n for the sums a box of n samples
	// of 0..255 can have.
	recip := make([]uint64, maxCols*maxRows+1)
	for n := 1; n < len(recip); n++ {
		recip[n] = (1<<24 + uint64(n)/2) / uint64(n)
	}
	cols := make([]uint32, sw)
	for y := 0; y < dh; y++ {
		y0, y1 := y*sh/dh, (y+1)*sh/dh
		row := src[y0*sstride : y0*sstride+sw]
		for x, v := range row {
			cols[x] = uint32(v)
		}
		for sy := y0 + 1; sy < y1; sy++ {
			row := src[sy*sstride : sy*sstride+sw]
			for x, v := range row {
				cols[x] += uint32(v)
			}
		}
		rows := uint64(y1 - y0)
		drow := dst[y*dstride : y*dstride+dw]
		for x := range drow {
			var s uint32
			for _, v := range cols[xs[x]:xs[x+1]] {
				s += v
			}
			n := uint64(xs[x+1]-xs[x]) * rows
			drow[x] = byte((uint64(s)*recip[n] + 1<<23) >> 24)
		}
	}
}
