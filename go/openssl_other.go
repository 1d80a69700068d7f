//go:build !(linux && cgo)

package checksig

import "hash"

// Without cgo, or off Linux, the engine hashes with Go's code only.

func findOpenSSL() string { return "" }

func opensslPath() string { return "" }

// opensslNames is empty: no algorithm is hashed by OpenSSL here.
var opensslNames = map[Algorithm]string{}

func newOpenSSL(Algorithm) hash.Hash { return nil }
