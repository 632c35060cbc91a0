//go:build !unix

package main

// dropToOwner does nothing where there is no root to drop from.
func dropToOwner(string) error { return nil }
