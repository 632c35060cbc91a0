//go:build !(linux && webkit2_41 && (dev || production))

package main

// watchWebContent does nothing where the shell cannot see the web view's process: WebView2
// (Windows) and WKWebView (macOS) builds, and builds without the Wails tags.
func watchWebContent(func(reason string) bool) {}
