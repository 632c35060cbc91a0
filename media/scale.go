package media

import "image"

// Downscale returns img shrunk to width w (height keeping the aspect, both even), each output
// sample the average of the input samples it covers (a box filter: no aliasing shimmer on the
// moving picture, unlike picking one sample). img itself is returned when it is not wider than
// w. The render bridge shrinks frames to the size a view shows before JPEG-encoding them: a
// 640x480 call shown 320 px wide costs a quarter of the encoding, sending and decoding.
func Downscale(img *image.YCbCr, w int) *image.YCbCr {
	sw, sh := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || w >= sw || img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return img
	}
	w &^= 1
	h := (sh * w / sw) &^ 1
	if w < 2 || h < 2 {
		return img
	}
	out := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	box(out.Y, out.YStride, w, h, img.Y[img.YOffset(img.Rect.Min.X, img.Rect.Min.Y):], img.YStride, sw, sh)
	cw, ch := (sw+1)/2, (sh+1)/2
	co := img.COffset(img.Rect.Min.X, img.Rect.Min.Y)
	box(out.Cb, out.CStride, w/2, h/2, img.Cb[co:], img.CStride, cw, ch)
	box(out.Cr, out.CStride, w/2, h/2, img.Cr[co:], img.CStride, cw, ch)
	return out
}

// box averages a sw x sh plane into a dw x dh one (dw <= sw, dh <= sh): output sample (x, y) is
// the mean of input columns [x*sw/dw, (x+1)*sw/dw) and rows [y*sh/dh, (y+1)*sh/dh).
func box(dst []byte, dstride, dw, dh int, src []byte, sstride, sw, sh int) {
	// xs[x] .. xs[x+1] are the input columns of output column x.
	xs := make([]int, dw+1)
	for x := range xs {
		xs[x] = x * sw / dw
	}
	sums := make([]uint32, dw)
	for y := 0; y < dh; y++ {
		clear(sums)
		y0, y1 := y*sh/dh, (y+1)*sh/dh
		for sy := y0; sy < y1; sy++ {
			row := src[sy*sstride : sy*sstride+sw]
			for x := 0; x < dw; x++ {
				var s uint32
				for _, v := range row[xs[x]:xs[x+1]] {
					s += uint32(v)
				}
				sums[x] += s
			}
		}
		drow := dst[y*dstride : y*dstride+dw]
		for x := range drow {
			n := uint32((xs[x+1] - xs[x]) * (y1 - y0))
			drow[x] = byte((sums[x] + n/2) / n)
		}
	}
}
