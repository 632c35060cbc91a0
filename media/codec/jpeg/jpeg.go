// Package jpeg encodes I420 frames to JPEG for the render bridge: libjpeg-turbo straight from
// the YUV planes (no colour conversion, SIMD), or Go's image/jpeg with -tags noturbojpeg.
package jpeg
