//go:build !nohw

package media

// Hardware drivers register themselves with mediadevices. Build with -tags nohw for a binary
// that only has the test sources.
import (
	_ "github.com/pion/mediadevices/pkg/driver/camera"
	_ "github.com/pion/mediadevices/pkg/driver/microphone"
)
