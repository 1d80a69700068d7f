//go:build !amd64 || purego

package blake3x16

// Have is false here: no kernel for this architecture (or the purego tag).
const Have = false

func hash16(in *byte, stride uintptr, blocks uintptr, p *Params, out *[8][16]uint32) {
	panic("blake3x16: no kernel on this platform")
}

func parents16(a, b *[8][16]uint32, p *Params, out *[8][16]uint32) {
	panic("blake3x16: no kernel on this platform")
}
