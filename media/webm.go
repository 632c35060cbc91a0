package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
)

// ErrNotWebM indicates RepairWebM on a file that is not a recording's WebM file.
var ErrNotWebM = errors.New("media: not a recording's WebM file")

// WebM (Matroska) writing for recordings: one file per side of the call holding that side's
// Opus audio and VP8 or H.264 video as SimpleBlocks (H.264 as Matroska carries it: length-
// prefixed NAL units, the first key frame's parameter sets in the track's avcC), on the recording's clock (milliseconds since the
// recording started, the same clock for both sides), so a browser plays each side with <video>
// and two sides started together stay in step. Packets are copied as they were sent: no
// decoding, no re-encoding.
//
// The Segment and each Cluster are written with an unknown size and every block goes to the
// file as it comes, so a file cut short (the app killed mid-call) is still a playable WebM up
// to its last block. The header keeps room (a Void element) for the Duration, which finish
// writes once the length is known; a cut file simply has none.

// EBML element IDs used here (Matroska specification).
const (
	idEBML               = 0x1A45DFA3
	idEBMLVersion        = 0x4286
	idEBMLReadVersion    = 0x42F7
	idEBMLMaxIDLength    = 0x42F2
	idEBMLMaxSizeLength  = 0x42F3
	idDocType            = 0x4282
	idDocTypeVersion     = 0x4287
	idDocTypeReadVersion = 0x4285
	idSegment            = 0x18538067
	idInfo               = 0x1549A966
	idTimecodeScale      = 0x2AD7B1
	idMuxingApp          = 0x4D80
	idWritingApp         = 0x5741
	idDuration           = 0x4489
	idVoid               = 0xEC
	idTracks             = 0x1654AE6B
	idTrackEntry         = 0xAE
	idTrackNumber        = 0xD7
	idTrackUID           = 0x73C5
	idTrackType          = 0x83
	idFlagLacing         = 0x9C
	idCodecID            = 0x86
	idCodecPrivate       = 0x63A2
	idVideo              = 0xE0
	idPixelWidth         = 0xB0
	idPixelHeight        = 0xBA
	idAudio              = 0xE1
	idSamplingFrequency  = 0xB5
	idChannels           = 0x9F
	idCluster            = 0x1F43B675
	idTimecode           = 0xE7
	idSimpleBlock        = 0xA3
)

// Track numbers in a recording's WebM file.
const (
	webmAudioTrack = 1
	webmVideoTrack = 2
)

// unknownSize is the EBML size "unknown" (all ones in an 8-byte size).
var unknownSize = []byte{0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}

// ebmlID appends an element ID (its bytes as written, the length marker included).
func ebmlID(b []byte, id uint32) []byte {
	switch {
	case id >= 1<<24:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<16:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<8:
		return append(b, byte(id>>8), byte(id))
	default:
		return append(b, byte(id))
	}
}

// ebmlSize appends a data size as an EBML variable-length integer (8 bytes for big ones).
func ebmlSize(b []byte, n int) []byte {
	switch {
	case n < 1<<7-1:
		return append(b, 0x80|byte(n))
	case n < 1<<14-1:
		return append(b, 0x40|byte(n>>8), byte(n))
	case n < 1<<21-1:
		return append(b, 0x20|byte(n>>16), byte(n>>8), byte(n))
	case n < 1<<28-1:
		return append(b, 0x10|byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	default:
		var s [8]byte
		binary.BigEndian.PutUint64(s[:], uint64(n))
		s[0] = 0x01
		return append(b, s[:]...)
	}
}

// ebmlBytes appends a whole element with the given payload.
func ebmlBytes(b []byte, id uint32, payload []byte) []byte {
	return append(ebmlSize(ebmlID(b, id), len(payload)), payload...)
}

// ebmlUint appends an unsigned integer element in as few bytes as it needs.
func ebmlUint(b []byte, id uint32, v uint64) []byte {
	n := 1
	for n < 8 && v>>(8*n) != 0 {
		n++
	}
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], v)
	return ebmlBytes(b, id, s[8-n:])
}

// ebmlFloat appends an 8-byte float element.
func ebmlFloat(b []byte, id uint32, v float64) []byte {
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], math.Float64bits(v))
	return ebmlBytes(b, id, s[:])
}

// durationElementSize is the size of the Duration element (2-byte ID, 1-byte size, float64),
// which the header keeps room for with a Void element of the same size.
const durationElementSize = 11

// webmWriter writes one side's WebM file.
type webmWriter struct {
	f       *os.File
	video   bool  // the file has a video track
	h264    bool  // its video is H.264 (frames come as Annex B and are written length-prefixed)
	durAt   int64 // where the Void kept for the Duration starts
	cluster int64 // the open cluster's timecode; -1 before the first
	end     int64 // the end of the latest block (its timestamp plus its duration), in ms
	buf     []byte
}

// newWebM creates path with the header of a WebM file holding Opus audio and, with video,
// a VP8 track of the given picture size, or an H.264 one when avcC (its parameter sets) is given.
func newWebM(path string, video bool, width, height int, avcC []byte) (*webmWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	var hdr []byte
	var h []byte
	h = ebmlUint(h, idEBMLVersion, 1)
	h = ebmlUint(h, idEBMLReadVersion, 1)
	h = ebmlUint(h, idEBMLMaxIDLength, 4)
	h = ebmlUint(h, idEBMLMaxSizeLength, 8)
	h = ebmlBytes(h, idDocType, []byte("webm"))
	h = ebmlUint(h, idDocTypeVersion, 4)
	h = ebmlUint(h, idDocTypeReadVersion, 2)
	hdr = ebmlBytes(hdr, idEBML, h)
	hdr = append(ebmlID(hdr, idSegment), unknownSize...)

	var info []byte
	info = ebmlUint(info, idTimecodeScale, 1_000_000) // timestamps in milliseconds
	info = ebmlBytes(info, idMuxingApp, []byte("parley"))
	info = ebmlBytes(info, idWritingApp, []byte("parley"))
	hdr = append(ebmlSize(ebmlID(hdr, idInfo), len(info)+durationElementSize), info...)
	durAt := int64(len(hdr))
	hdr = append(ebmlSize(ebmlID(hdr, idVoid), durationElementSize-2), make([]byte, durationElementSize-2)...)

	var tracks, a []byte
	a = ebmlUint(a, idTrackNumber, webmAudioTrack)
	a = ebmlUint(a, idTrackUID, webmAudioTrack)
	a = ebmlUint(a, idTrackType, 2)
	a = ebmlUint(a, idFlagLacing, 0)
	a = ebmlBytes(a, idCodecID, []byte("A_OPUS"))
	a = ebmlBytes(a, idCodecPrivate, opusHead())
	a = ebmlBytes(a, idAudio, ebmlUint(ebmlFloat(nil, idSamplingFrequency, 48000), idChannels, 2))
	tracks = ebmlBytes(tracks, idTrackEntry, a)
	if video {
		var v []byte
		v = ebmlUint(v, idTrackNumber, webmVideoTrack)
		v = ebmlUint(v, idTrackUID, webmVideoTrack)
		v = ebmlUint(v, idTrackType, 1)
		v = ebmlUint(v, idFlagLacing, 0)
		if avcC != nil {
			v = ebmlBytes(v, idCodecID, []byte("V_MPEG4/ISO/AVC"))
			v = ebmlBytes(v, idCodecPrivate, avcC)
		} else {
			v = ebmlBytes(v, idCodecID, []byte("V_VP8"))
		}
		v = ebmlBytes(v, idVideo, ebmlUint(ebmlUint(nil, idPixelWidth, uint64(width)), idPixelHeight, uint64(height)))
		tracks = ebmlBytes(tracks, idTrackEntry, v)
	}
	hdr = ebmlBytes(hdr, idTracks, tracks)
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return nil, err
	}
	return &webmWriter{f: f, video: video, h264: video && avcC != nil, durAt: durAt, cluster: -1}, nil
}

// opusHead is the Opus identification header Matroska carries as the track's CodecPrivate:
// two channels (as WebRTC signals Opus), 48 kHz, no pre-skip (the packets are the call's own,
// played from their first sample), channel mapping family 0.
func opusHead() []byte {
	h := []byte("OpusHead\x01\x02\x00\x00\x80\xbb\x00\x00\x00\x00\x00")
	return h
}

// write appends one block of track at ts (ms on the recording's clock) lasting dur ms. A new
// cluster starts at each video key frame, and at least every 5 s, so a block's offset from its
// cluster always fits the 16 bits Matroska gives it.
func (w *webmWriter) write(track int, ts, dur int64, key bool, frame []byte) error {
	b := w.buf[:0]
	if w.cluster < 0 || ts-w.cluster >= 5000 || (track == webmVideoTrack && key && ts > w.cluster) {
		w.cluster = ts
		b = append(ebmlID(b, idCluster), unknownSize...)
		b = ebmlUint(b, idTimecode, uint64(ts))
	}
	flags := byte(0)
	if key {
		flags = 0x80
	}
	rel := max(ts-w.cluster, -30000) // a block a little older than its cluster (audio beside video) is fine
	if track == webmVideoTrack && w.h264 {
		frame = lengthPrefixed(frame)
	}
	b = ebmlSize(ebmlID(b, idSimpleBlock), 4+len(frame))
	b = append(b, 0x80|byte(track), byte(rel>>8), byte(rel), flags)
	b = append(b, frame...)
	w.buf = b
	if _, err := w.f.Write(b); err != nil {
		return err
	}
	w.end = max(w.end, ts+dur)
	return nil
}

// finish writes the Duration into the room the header kept for it and closes the file.
func (w *webmWriter) finish() error {
	d := ebmlFloat(nil, idDuration, float64(w.end))
	_, err := w.f.WriteAt(d, w.durAt)
	if err2 := w.f.Sync(); err == nil {
		err = err2
	}
	if err2 := w.f.Close(); err == nil {
		err = err2
	}
	return err
}

// opusDuration is how long an Opus packet plays, in ms (RFC 6716 section 3.1: the TOC byte's
// configuration gives the frame length, its code the frame count); 20 when it cannot tell.
func opusDuration(pkt []byte) int64 {
	if len(pkt) == 0 {
		return 20
	}
	cfg := pkt[0] >> 3
	var us int64 // one frame, in µs
	switch {
	case cfg < 12:
		us = []int64{10000, 20000, 40000, 60000}[cfg%4]
	case cfg < 16:
		us = []int64{10000, 20000}[cfg%2]
	default:
		us = []int64{2500, 5000, 10000, 20000}[cfg%4]
	}
	frames := int64(1)
	switch pkt[0] & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(pkt) < 2 {
			return 20
		}
		frames = int64(pkt[1] & 0x3F)
	}
	return max(1, us*frames/1000)
}

// vp8Size reads the picture size from a VP8 key frame (RFC 6386 section 9.1).
func vp8Size(frame []byte) (w, h int, ok bool) {
	if len(frame) < 10 || frame[0]&1 != 0 || !bytes.Equal(frame[3:6], []byte{0x9d, 0x01, 0x2a}) {
		return 0, 0, false
	}
	return int(binary.LittleEndian.Uint16(frame[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(frame[8:]) & 0x3fff), true
}

// RepairWebM finishes a recording's WebM file that was cut short (the program killed while it
// was writing): it drops a last element written only in part and writes the Duration into the
// room the header kept for it, so every player knows the file's length and can seek in it. A
// file that has its Duration is left as it is. It reports whether it changed the file.
func RepairWebM(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	r := &ebmlReader{r: bufio.NewReaderSize(f, 64<<10), size: st.Size()}
	if id, n, ok := r.head(); !ok || id != idEBML {
		return false, ErrNotWebM
	} else if !r.skip(n) {
		return false, ErrNotWebM
	}
	if id, _, ok := r.head(); !ok || id != idSegment {
		return false, ErrNotWebM
	}
	durAt, good, end := int64(-1), r.off, int64(0)
	cluster := int64(0)
	for {
		id, n, ok := r.head()
		if !ok || (n >= 0 && r.off+n > r.size) {
			break // cut here: the element is not all there
		}
		switch id {
		case idInfo:
			stop := r.off + n
			for r.off < stop {
				at := r.off
				cid, cn, ok := r.head()
				if !ok {
					return false, ErrNotWebM
				}
				switch {
				case cid == idDuration:
					return false, nil // finished properly
				case cid == idVoid && cn == durationElementSize-2:
					durAt = at
				}
				if !r.skip(cn) {
					return false, ErrNotWebM
				}
			}
		case idCluster:
			continue // unknown size: its children follow at this level
		case idTimecode:
			v, ok := r.uint(n)
			if !ok {
				r.err = ErrNotWebM
				break
			}
			cluster = int64(v)
		case idSimpleBlock:
			if n < 5 {
				r.skip(n)
				break
			}
			var h [5]byte
			if !r.read(h[:]) {
				break
			}
			ts := cluster + int64(int16(binary.BigEndian.Uint16(h[1:3])))
			dur := int64(0)
			if h[0]&0x7f == webmAudioTrack {
				dur = opusDuration(h[4:])
			}
			end = max(end, ts+dur)
			if !r.skip(n - 5) {
				break
			}
		default:
			if n < 0 || !r.skip(n) {
				break
			}
		}
		if r.err != nil {
			break
		}
		good = r.off
	}
	if durAt < 0 {
		return false, ErrNotWebM
	}
	if _, err := f.WriteAt(ebmlFloat(nil, idDuration, float64(end)), durAt); err != nil {
		return false, err
	}
	if err := f.Truncate(good); err != nil {
		return false, err
	}
	return true, f.Sync()
}

// ebmlReader reads EBML element headers and payloads, counting its offset in the file.
type ebmlReader struct {
	r    *bufio.Reader
	off  int64
	size int64
	err  error
}

// read fills b, or fails at the end of the file.
func (r *ebmlReader) read(b []byte) bool {
	n, err := io.ReadFull(r.r, b)
	r.off += int64(n)
	if err != nil {
		r.err = err
		return false
	}
	return true
}

// vint reads a variable-length integer; keep leaves its length marker in (element IDs).
func (r *ebmlReader) vint(keep bool) (v int64, unknown, ok bool) {
	var b [8]byte
	if !r.read(b[:1]) {
		return 0, false, false
	}
	l := 1
	for l <= 8 && b[0]&(0x80>>(l-1)) == 0 {
		l++
	}
	if l > 8 || (keep && l > 4) || !r.read(b[1:l]) {
		return 0, false, false
	}
	first := b[0]
	if !keep {
		first &^= 0x80 >> (l - 1)
	}
	v = int64(first)
	all := first == byte(0xff>>l)
	for i := 1; i < l; i++ {
		v = v<<8 | int64(b[i])
		all = all && b[i] == 0xff
	}
	return v, all && !keep, true
}

// head reads an element's ID and size (-1 for unknown).
func (r *ebmlReader) head() (id uint32, n int64, ok bool) {
	v, _, ok := r.vint(true)
	if !ok {
		return 0, 0, false
	}
	n, unknown, ok := r.vint(false)
	if !ok {
		return 0, 0, false
	}
	if unknown {
		n = -1
	}
	return uint32(v), n, true
}

// skip passes over n bytes, or fails at the end of the file.
func (r *ebmlReader) skip(n int64) bool {
	if n < 0 || r.off+n > r.size {
		r.err = io.ErrUnexpectedEOF
		return false
	}
	d, err := r.r.Discard(int(n))
	r.off += int64(d)
	if err != nil {
		r.err = err
		return false
	}
	return true
}

// uint reads an unsigned integer payload of n bytes.
func (r *ebmlReader) uint(n int64) (uint64, bool) {
	if n < 0 || n > 8 {
		return 0, false
	}
	var b [8]byte
	if !r.read(b[8-n:]) {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[:]), true
}

// nalUnits splits an Annex B access unit into its NAL units (start codes removed).
func nalUnits(au []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+2 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 {
			if start >= 0 {
				end := i
				if end > start && au[end-1] == 0 {
					end-- // the zero of a four-byte start code
				}
				if end > start {
					out = append(out, au[start:end])
				}
			}
			start = i + 3
			i += 2
		}
	}
	if start >= 0 && start < len(au) {
		out = append(out, au[start:])
	}
	return out
}

// lengthPrefixed turns an Annex B access unit into NAL units each behind its 4-byte length, as
// Matroska's V_MPEG4/ISO/AVC (avcC lengthSizeMinusOne 3) wants them.
func lengthPrefixed(au []byte) []byte {
	out := make([]byte, 0, len(au)+16)
	for _, n := range nalUnits(au) {
		out = binary.BigEndian.AppendUint32(out, uint32(len(n)))
		out = append(out, n...)
	}
	return out
}

// avcConfig builds the avcC record (ISO 14496-15) from an access unit's first SPS and PPS, or
// returns nil when it carries neither.
func avcConfig(au []byte) []byte {
	var sps, pps []byte
	for _, n := range nalUnits(au) {
		switch n[0] & 0x1f {
		case 7:
			if sps == nil && len(n) >= 4 {
				sps = n
			}
		case 8:
			if pps == nil {
				pps = n
			}
		}
	}
	if sps == nil || pps == nil {
		return nil
	}
	c := []byte{1, sps[1], sps[2], sps[3], 0xff, 0xe1}
	c = binary.BigEndian.AppendUint16(c, uint16(len(sps)))
	c = append(c, sps...)
	c = append(c, 1)
	c = binary.BigEndian.AppendUint16(c, uint16(len(pps)))
	return append(c, pps...)
}
