package media

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/gen2brain/malgo"

	"github.com/parleyhq/parley/media/codec/opus"
)

// player plays received audio on an output device, mixing its sources (the other side of a
// call; a supervisor's voice or the two sides a supervisor hears), each through a small jitter
// buffer: a source starts once jitterTarget of its audio is queued, plays silence when its queue
// runs dry (and refills to the target before resuming), and drops its oldest audio when more
// than jitterMax is queued.
type player struct {
	ctx *malgo.AllocatedContext
	dev *malgo.Device

	mu   sync.Mutex
	srcs map[string]*playQueue
}

// playQueue is one source's queued samples.
type playQueue struct {
	q       []int16
	playing bool
}

const (
	jitterTarget = opus.SampleRate * 60 / 1000  // 60 ms
	jitterMax    = opus.SampleRate * 200 / 1000 // 200 ms
)

// newPlayer opens the output device with the given id ("" for the default). It returns
// ErrNoSpeaker when there is none; the call goes on without sound.
func newPlayer(id string) (*player, error) {
	ctx, err := malgo.InitContext(nil, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, errors.Join(ErrNoSpeaker, err)
	}
	p := &player{ctx: ctx, srcs: map[string]*playQueue{}}
	cfg := malgo.DefaultDeviceConfig(malgo.Playback)
	cfg.Playback.Format = malgo.FormatS16
	cfg.Playback.Channels = 1
	cfg.SampleRate = opus.SampleRate
	if id != "" {
		infos, err := ctx.Devices(malgo.Playback)
		if err != nil {
			p.freeCtx()
			return nil, errors.Join(ErrNoSpeaker, err)
		}
		found := false
		for _, in := range infos {
			if in.ID.String() == id {
				cfg.Playback.DeviceID = in.ID.Pointer()
				found = true
				break
			}
		}
		if !found {
			p.freeCtx()
			return nil, fmt.Errorf("%w: %q not found", ErrNoSpeaker, id)
		}
	}
	dev, err := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{Data: p.fill})
	if err != nil {
		p.freeCtx()
		return nil, errors.Join(ErrNoSpeaker, err)
	}
	if err := dev.Start(); err != nil {
		dev.Uninit()
		p.freeCtx()
		return nil, errors.Join(ErrNoSpeaker, err)
	}
	p.dev = dev
	return p, nil
}

func (p *player) freeCtx() {
	_ = p.ctx.Uninit()
	p.ctx.Free()
}

// push queues decoded samples of the main source.
func (p *player) push(pcm []int16) { p.pushTo("", pcm) }

// pushTo queues decoded samples of source src.
func (p *player) pushTo(src string, pcm []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pq := p.srcs[src]
	if pq == nil {
		pq = &playQueue{}
		p.srcs[src] = pq
	}
	pq.q = append(pq.q, pcm...)
	if len(pq.q) > jitterMax {
		pq.q = append(pq.q[:0], pq.q[len(pq.q)-jitterTarget:]...)
	}
}

// drop forgets source src (a supervisor's leg ended).
func (p *player) drop(src string) {
	p.mu.Lock()
	delete(p.srcs, src)
	p.mu.Unlock()
}

// fill is malgo's callback: it writes little-endian S16 mono frames into out, the sum of the
// sources clipped to full scale.
func (p *player) fill(out, _ []byte, frames uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(out)
	for _, pq := range p.srcs {
		if !pq.playing && len(pq.q) >= jitterTarget {
			pq.playing = true
		}
		if !pq.playing {
			continue
		}
		n := min(int(frames), len(pq.q))
		for i := 0; i < n; i++ {
			v := int32(int16(uint16(out[2*i])|uint16(out[2*i+1])<<8)) + int32(pq.q[i])
			u := uint16(int16(max(math.MinInt16, min(math.MaxInt16, v))))
			out[2*i], out[2*i+1] = byte(u), byte(u>>8)
		}
		pq.q = append(pq.q[:0], pq.q[n:]...)
		if len(pq.q) == 0 {
			pq.playing = false
		}
	}
}

func (p *player) close() {
	if p.dev != nil {
		_ = p.dev.Stop()
		p.dev.Uninit()
	}
	p.freeCtx()
}

func mathFloat64bits(f float64) uint64 { return math.Float64bits(f) }
