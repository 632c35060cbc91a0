package media

import (
	"math"
	"time"

	"github.com/pion/webrtc/v4"
)

// Stats is a snapshot for the call-quality indicator. Rates are averaged since the previous
// Stats call (or the call's start).
type Stats struct {
	RTT         time.Duration `json:"rttMs"`
	Jitter      time.Duration `json:"jitterMs"`
	PacketLoss  float64       `json:"packetLoss"`  // fraction of received packets lost, 0..1
	SendBitrate int           `json:"sendBitrate"` // video, bit/s
	RecvBitrate int           `json:"recvBitrate"` // video, bit/s
	// AudioSendBitrate and AudioRecvBitrate are the audio's, bit/s (Opus payload).
	AudioSendBitrate int     `json:"audioSendBitrate"`
	AudioRecvBitrate int     `json:"audioRecvBitrate"`
	TargetBitrate    int     `json:"targetBitrate"` // what congestion control allows, bit/s
	SendFPS          float64 `json:"sendFps"`
	RecvFPS          float64 `json:"recvFps"`
	FramesSent       int64   `json:"framesSent"`
	KeyFramesSent    int64   `json:"keyFramesSent"` // on PLI/FIR, or at the start
	FramesDecoded    int64   `json:"framesDecoded"`
	AudioLevel       float64 `json:"audioLevel"` // received audio RMS, 0..1
	// UpBitrate is everything the call sends, bit/s: audio, video, RTCP and headers, and a
	// supervisor's leg (monitor.go) when one is open.
	UpBitrate int `json:"upBitrate"`
	// Relayed is true when the selected candidate pair goes through a TURN relay on either side.
	Relayed      bool      `json:"relayed"`
	FirstFrameAt time.Time `json:"-"` // when the first remote frame was decoded
}

// Stats returns the current call statistics.
func (c *Call) Stats() Stats {
	var s Stats
	var lost, recv int64
	var pairLocal, pairRemote string
	var up int64
	candType := map[string]webrtc.ICECandidateType{}
	for _, v := range c.pc.GetStats() {
		switch st := v.(type) {
		case webrtc.TransportStats:
			up += int64(st.BytesSent)
		case webrtc.ICECandidateStats:
			candType[st.ID] = st.CandidateType
		case webrtc.ICECandidatePairStats:
			if st.Nominated {
				pairLocal, pairRemote = st.LocalCandidateID, st.RemoteCandidateID
			}
			if st.Nominated && st.CurrentRoundTripTime > 0 {
				s.RTT = time.Duration(st.CurrentRoundTripTime * float64(time.Second))
			}
		case webrtc.InboundRTPStreamStats:
			lost += int64(st.PacketsLost)
			recv += int64(st.PacketsReceived)
			if j := time.Duration(st.Jitter * float64(time.Second)); j > s.Jitter {
				s.Jitter = j
			}
		case webrtc.RemoteInboundRTPStreamStats:
			if s.RTT == 0 && st.RoundTripTime > 0 {
				s.RTT = time.Duration(st.RoundTripTime * float64(time.Second))
			}
		}
	}
	s.Relayed = candType[pairLocal] == webrtc.ICECandidateTypeRelay || candType[pairRemote] == webrtc.ICECandidateTypeRelay
	if lost+recv > 0 {
		s.PacketLoss = float64(max(lost, 0)) / float64(lost+recv)
	}
	if m := c.mon.Load(); m != nil {
		up += m.BytesSent()
	}
	now := time.Now()
	sent, got := c.st.bytesSentVideo.Load(), c.st.bytesRecvVideo.Load()
	sentA, gotA := c.st.bytesSentAudio.Load(), c.st.bytesRecvAudio.Load()
	fs, fd := c.st.framesSent.Load(), c.st.framesDecoded.Load()
	c.mu.Lock()
	if !c.st.lastStatsAt.IsZero() {
		if dt := now.Sub(c.st.lastStatsAt).Seconds(); dt > 0 {
			s.SendBitrate = int(float64(sent-c.st.lastSent) * 8 / dt)
			s.RecvBitrate = int(float64(got-c.st.lastRecv) * 8 / dt)
			s.AudioSendBitrate = int(float64(sentA-c.st.lastSentAudio) * 8 / dt)
			s.AudioRecvBitrate = int(float64(gotA-c.st.lastRecvAudio) * 8 / dt)
			s.SendFPS = float64(fs-c.st.lastFramesSent) / dt
			s.RecvFPS = float64(fd-c.st.lastFramesDecoded) / dt
			// A leg that closed takes its bytes along: no negative rate.
			s.UpBitrate = int(float64(max(up-c.st.lastUp, 0)) * 8 / dt)
		}
	}
	c.st.lastUp = up
	c.st.lastStatsAt, c.st.lastSent, c.st.lastRecv, c.st.lastFramesSent, c.st.lastFramesDecoded = now, sent, got, fs, fd
	c.st.lastSentAudio, c.st.lastRecvAudio = sentA, gotA
	c.mu.Unlock()
	s.TargetBitrate = int(c.target.Load())
	s.FramesSent, s.FramesDecoded = fs, fd
	s.KeyFramesSent = c.st.keyFramesSent.Load()
	// No audio packet for a while (the other side muted): the level is silence.
	if now.Sub(time.Unix(0, c.st.lastAudio.Load())) < 200*time.Millisecond {
		s.AudioLevel = math.Float64frombits(c.st.audioLevel.Load())
	}
	if ns := c.st.firstFrame.Load(); ns > 0 {
		s.FirstFrameAt = time.Unix(0, ns)
	}
	return s
}

// MicLevel is the microphone's level as a meter shows it (0..1, LevelMeter), 0 once the
// microphone stopped. It reads no peer statistics: a meter may ask
// ten times a second.
func (c *Call) MicLevel() float64 {
	return math.Float64frombits(c.st.micLevel.Load())
}
