package app

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/nettest"
)

// TestSetupCodesTranslated: every code a "Test my setup" line can carry, the devices' and the
// network test's, has a sentence in English and in Spanish (frontend/src/locales/settings.ts).
func TestSetupCodesTranslated(t *testing.T) {
	src, err := os.ReadFile("../frontend/src/locales/settings.ts")
	if err != nil {
		t.Fatal(err)
	}
	en, es, ok := strings.Cut(string(src), "export const es")
	if !ok {
		t.Fatal("settings.ts has no es locale")
	}
	codes := []string{codeChecking, codeCameraOK, codeCameraMissing, codeCameraDenied, codeCameraBusy, codeCameraLost,
		codeMicOK, codeMicSilent, codeMicMissing, codeMicDenied, codeMicBusy, codeMicLost,
		codeSpeakerPlay, codeSpeakerPlaying, codeSpeakerConfirm, codeSpeakerOK, codeSpeakerNotHeard, codeSpeakerMissing,
		nettest.CodeHubOK, nettest.CodeHubSlow, nettest.CodeHubUnreachable, nettest.CodeNoPlan, nettest.CodeNoRelay,
		nettest.CodeGovNoRelay, nettest.CodeUDPOK, nettest.CodeUDPBlocked, nettest.CodeTCPOK, nettest.CodeTCPBlocked,
		nettest.CodeTCPNotOffered, nettest.CodeRelayDown, nettest.CodeMediaOK, nettest.CodeMediaPoor, nettest.CodeMediaFailed,
		nettest.CodeRegionNA, nettest.CodeRegionWrong, nettest.CodeCancelled}
	checks := []string{CheckCamera, CheckMicrophone, CheckSpeaker, string(nettest.CheckHub), string(nettest.CheckRelayUDP),
		string(nettest.CheckRelayTCP), string(nettest.CheckMedia), string(nettest.CheckRegion)}
	for lang, text := range map[string]string{"en": en, "es": es} {
		for _, k := range append(codes, checks...) {
			if !regexp.MustCompile(`(?m)^\s+` + k + `: '`).MatchString(text) {
				t.Errorf("%s has no sentence for %q", lang, k)
			}
		}
	}
}
