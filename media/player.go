package media

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/gen2brain/malgo"

	"github.com/parleyhq/parley/media/codec/opus"
)

// player plays received audio on an output device through a small jitter buffer: it starts
// once jitterTarget of audio is queued, plays silence when the queue runs dry (and refills to
// the target before resuming), and drops the oldest audio when more than jitterMax queued.
type player struct {
	ctx *malgo.AllocatedContext
	dev *malgo.Device

	mu      sync.Mutex
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
	p := &player{ctx: ctx}
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

// push queues decoded samples.
func (p *player) push(pcm []int16) {
	p.mu.Lock()
	p.q = append(p.q, pcm...)
	if len(p.q) > jitterMax {
		p.q = append(p.q[:0], p.q[len(p.q)-jitterTarget:]...)
	}
	p.mu.Unlock()
}

// fill is malgo's callback: it writes little-endian S16 mono frames into out.
func (p *player) fill(out, _ []byte, frames uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.playing && len(p.q) >= jitterTarget {
		p.playing = true
	}
	n := 0
	if p.playing {
		n = min(int(frames), len(p.q))
		for i := 0; i < n; i++ {
			v := uint16(p.q[i])
			out[2*i], out[2*i+1] = byte(v), byte(v>>8)
		}
		p.q = append(p.q[:0], p.q[n:]...)
		if len(p.q) == 0 {
			p.playing = false
		}
	}
	clear(out[2*n:])
}

func (p *player) close() {
	if p.dev != nil {
		_ = p.dev.Stop()
		p.dev.Uninit()
	}
	p.freeCtx()
}

func mathFloat64bits(f float64) uint64 { return math.Float64bits(f) }
