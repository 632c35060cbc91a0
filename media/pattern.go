package media

import (
	"image"
	"math"
	"time"
)

// The test pattern carries a machine-readable stamp in its top band: 64 blocks across, the
// first two a white/black marker, then 44 bits of capture time (Unix ms) and 16 bits of frame
// counter, most significant first. Blocks are big enough to survive VP8 and JPEG, so the time a
// frame was made can be read back after decoding and after the render bridge (glass-to-glass).
const (
	stampBlocks   = 64
	stampTimeBits = 44
	stampBandRows = 24
)

// Pattern draws moving I420 test frames with a readable stamp.
type Pattern struct {
	w, h  int
	frame uint32
	// Tint gives the picture a blue cast: the second test camera, so a switch shows.
	Tint bool
}

// NewPattern returns a pattern of w x h (both even, w at least 128).
func NewPattern(w, h int) *Pattern { return &Pattern{w: w, h: h} }

// Draw makes the next frame, stamped with t. The image is new for each call.
func (p *Pattern) Draw(t time.Time) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, p.w, p.h), image.YCbCrSubsampleRatio420)
	n := int(p.frame)
	// Moving diagonal bars: every pixel changes between frames, as a camera's would.
	for y := stampBandRows; y < p.h; y++ {
		row := img.Y[y*img.YStride : y*img.YStride+p.w]
		off := y + n*4
		for x := range row {
			row[x] = byte(64 + ((x+off)>>3&31)*4)
		}
	}
	// A bouncing box.
	bx := bounce(n*7, p.w-64)
	by := stampBandRows + bounce(n*5, p.h-64-stampBandRows)
	for y := by; y < by+64; y++ {
		row := img.Y[y*img.YStride:]
		for x := bx; x < bx+64; x++ {
			row[x] = 235
		}
	}
	cb, cr := byte(128), byte(128)
	if p.Tint {
		cb, cr = 176, 100
	}
	for i := range img.Cb {
		img.Cb[i] = cb
		img.Cr[i] = cr
	}
	cx, cy := bx/2, by/2
	for y := cy; y < cy+32; y++ {
		for x := cx; x < cx+32; x++ {
			img.Cb[y*img.CStride+x] = 90
			img.Cr[y*img.CStride+x] = 200
		}
	}
	p.writeStamp(img, uint64(t.UnixMilli()), uint16(p.frame))
	p.frame++
	return img
}

func bounce(v, span int) int {
	if span <= 0 {
		return 0
	}
	v %= 2 * span
	if v > span {
		v = 2*span - v
	}
	return v
}

func (p *Pattern) writeStamp(img *image.YCbCr, ms uint64, frame uint16) {
	bits := make([]bool, stampBlocks)
	bits[0] = true
	for i := 0; i < stampTimeBits; i++ {
		bits[2+i] = ms>>(stampTimeBits-1-i)&1 == 1
	}
	for i := 0; i < 16; i++ {
		bits[2+stampTimeBits+i] = frame>>(15-i)&1 == 1
	}
	bw := p.w / stampBlocks
	for y := 0; y < stampBandRows; y++ {
		row := img.Y[y*img.YStride : y*img.YStride+p.w]
		for x := range row {
			b := x / bw
			if b < stampBlocks && bits[b] {
				row[x] = 235
			} else {
				row[x] = 16
			}
		}
	}
}

// ReadStamp reads the capture time and frame counter drawn by Pattern from a decoded frame of
// any size. ok is false when the frame carries no stamp (another source, or badly damaged).
func ReadStamp(img image.Image) (t time.Time, frame uint16, ok bool) {
	b := img.Bounds()
	bw := float64(b.Dx()) / stampBlocks
	yc := b.Min.Y + max(8*b.Dy()/480, 3) // inside the band even if the frame was scaled down
	lum := func(i int) bool {
		x := b.Min.X + int(math.Round((float64(i)+0.5)*bw))
		switch m := img.(type) {
		case *image.YCbCr:
			return m.Y[m.YOffset(x, yc)] > 128
		default:
			r, g, bl, _ := img.At(x, yc).RGBA()
			return (r*299+g*587+bl*114)/1000 > 0x8000
		}
	}
	if !lum(0) || lum(1) {
		return time.Time{}, 0, false
	}
	var ms uint64
	for i := 0; i < stampTimeBits; i++ {
		ms <<= 1
		if lum(2 + i) {
			ms |= 1
		}
	}
	for i := 0; i < 16; i++ {
		frame <<= 1
		if lum(2 + stampTimeBits + i) {
			frame |= 1
		}
	}
	return time.UnixMilli(int64(ms)), frame, true
}

// Tone makes a 440 Hz (or Hz) sine at about -12 dBFS, FrameSamples samples at a time.
type Tone struct {
	phase float64
	// Hz is the pitch; 0 means 440 Hz (the second test microphone plays 880 Hz).
	Hz float64
}

// Next returns the next 20 ms of tone.
func (t *Tone) Next(pcm []int16) {
	hz := t.Hz
	if hz == 0 {
		hz = 440
	}
	step := 2 * math.Pi * hz / 48000
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(t.phase))
		t.phase += step
		if t.phase > 2*math.Pi {
			t.phase -= 2 * math.Pi
		}
	}
}

// Energy returns the RMS of pcm as a fraction of full scale (0..1).
func Energy(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var s float64
	for _, v := range pcm {
		f := float64(v) / 32768
		s += f * f
	}
	return math.Sqrt(s / float64(len(pcm)))
}

// Pitch estimates the frequency of the main tone in pcm (48 kHz mono) from its zero crossings;
// tests use it to tell the two test microphones apart after a call's audio went through Opus.
func Pitch(pcm []int16) float64 {
	if len(pcm) < 2 {
		return 0
	}
	n := 0
	for i := 1; i < len(pcm); i++ {
		if (pcm[i-1] < 0) != (pcm[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(pcm)) / 48000)
}

// ToneLevel returns the amplitude of the hz component of pcm (48 kHz mono) as a fraction of full
// scale: about 0.24 for the test tones, near 0 when that pitch is absent however loud others are
// (a Hann-windowed Goertzel filter). Tests use it to hear one voice among several.
func ToneLevel(pcm []int16, hz float64) float64 {
	n := len(pcm)
	if n < 2 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*hz/48000)
	var s1, s2 float64
	for i, v := range pcm {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		s0 := w*float64(v)/32768 + k*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - k*s1*s2
	// The Hann window halves a sine's amplitude on average.
	return 4 * math.Sqrt(max(power, 0)) / float64(n)
}
