//go:build amd64 && !purego

package blake3x16

import "golang.org/x/sys/cpu"

//go:generate go run gen.go

// Have says whether Hash16 may run: AVX-512F, with the OS saving the ZMM
// registers (x/sys/cpu checks both).
var Have = cpu.X86.HasAVX512F

//go:noescape
func hash16(in *byte, stride uintptr, blocks uintptr, p *Params, out *[8][16]uint32)

//go:noescape
func parents16(a, b *[8][16]uint32, p *Params, out *[8][16]uint32)
