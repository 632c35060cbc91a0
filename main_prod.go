//go:build !dev

package main

import "flag"

// devFlags declares nothing outside dev builds.
func devFlags(*flag.FlagSet) {}
