//go:build linux && cgo

package checksig

// The OpenSSL that the process hosting the engine has already loaded: in a
// CPython process, the libcrypto that hashlib hashes with, once anything
// imported hashlib. The engine never loads a libcrypto itself: it looks for
// one already in the process (dl_iterate_phdr), takes a handle to exactly
// that object (dlopen with RTLD_NOLOAD, which cannot load anything) and
// calls its EVP digest functions through pointers from dlsym. So there is
// no build or link dependency on OpenSSL, no second libcrypto in the
// process, and without one loaded the engine hashes with Go's code as ever.
//
// This file, cputime_linux.go and openat2_linux.go hold the engine's unsafe
// code. Rules kept here: OpenSSL only ever reads memory the engine owns (a
// read(2) buffer): a mapped window can raise SIGBUS when its file shrinks,
// which the Go runtime turns into a panic only in Go code, never in C.

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

typedef void *(*ctx_new_fn)(void);
typedef void (*ctx_free_fn)(void *);
typedef int (*ctx_copy_fn)(void *, const void *);
typedef const void *(*byname_fn)(const char *);
typedef int (*init_fn)(void *, const void *, void *);
typedef int (*update_fn)(void *, const void *, size_t);
typedef int (*final_fn)(void *, unsigned char *, unsigned int *);

static struct {
	ctx_new_fn ctx_new;
	ctx_free_fn ctx_free;
	ctx_copy_fn ctx_copy;
	byname_fn byname;
	init_fn init;
	update_fn update;
	final_fn final;
} evp;

struct found { char *path; size_t cap; };

// find_cb copies the path of the first libcrypto.so* loaded into the found
// buffer (while the loader's lock is held, so the name is still valid).
static int find_cb(struct dl_phdr_info *info, size_t size, void *data) {
	struct found *f = data;
	const char *name = info->dlpi_name, *base;
	if (name == NULL || name[0] == 0) return 0;
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (strncmp(base, "libcrypto.so", 12) != 0 || strlen(name) >= f->cap) return 0;
	strcpy(f->path, name);
	return 1;
}

// checksig_evp_find binds the EVP functions of a libcrypto already loaded in
// the process; it copies the library's path into path (cap bytes) and
// returns 1, or returns 0 and binds nothing.
static int checksig_evp_find(char *path, size_t cap) {
	struct found f = { path, cap };
	void *h;
	path[0] = 0;
	if (dl_iterate_phdr(find_cb, &f) == 0) return 0;
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	if (h == NULL) return 0;
	evp.ctx_new = (ctx_new_fn)dlsym(h, "EVP_MD_CTX_new");
	evp.ctx_free = (ctx_free_fn)dlsym(h, "EVP_MD_CTX_free");
	evp.ctx_copy = (ctx_copy_fn)dlsym(h, "EVP_MD_CTX_copy_ex");
	evp.byname = (byname_fn)dlsym(h, "EVP_get_digestbyname");
	evp.init = (init_fn)dlsym(h, "EVP_DigestInit_ex");
	evp.update = (update_fn)dlsym(h, "EVP_DigestUpdate");
	evp.final = (final_fn)dlsym(h, "EVP_DigestFinal_ex");
	if (!evp.ctx_new || !evp.ctx_free || !evp.ctx_copy || !evp.byname || !evp.init ||
	    !evp.update || !evp.final) {
		memset(&evp, 0, sizeof evp);
		return 0; // not an OpenSSL 1.1 or 3 libcrypto: the handle stays, harmless
	}
	return 1;
}

static const void *checksig_evp_md(const char *name) { return evp.byname(name); }
static void *checksig_evp_new(const void *md) {
	void *ctx = evp.ctx_new();
	if (ctx != NULL && evp.init(ctx, md, NULL) != 1) {
		evp.ctx_free(ctx);
		return NULL;
	}
	return ctx;
}
static void checksig_evp_free(void *ctx) { evp.ctx_free(ctx); }
static int checksig_evp_reset(void *ctx, const void *md) { return evp.init(ctx, md, NULL); }
static int checksig_evp_update(void *ctx, const void *p, size_t n) { return evp.update(ctx, p, n); }
// checksig_evp_sum finishes a copy of ctx into out, leaving ctx as it was.
static int checksig_evp_sum(const void *ctx, unsigned char *out) {
	unsigned int n = 0;
	int ok;
	void *tmp = evp.ctx_new();
	if (tmp == NULL) return 0;
	ok = evp.ctx_copy(tmp, ctx) == 1 && evp.final(tmp, out, &n) == 1;
	evp.ctx_free(tmp);
	return ok ? (int)n : 0;
}
*/
import "C"

import (
	"fmt"
	"hash"
	"runtime"
	"sync"
	"unsafe"
)

var evpLib struct {
	mu   sync.Mutex
	path string // the libcrypto bound, "" while none is
	md   [numAlgorithms]unsafe.Pointer
}

// opensslNames are OpenSSL's names of the algorithms it may hash; an
// algorithm not listed is always hashed with Go's code.
var opensslNames = map[Algorithm]string{
	MD5: "MD5", SHA1: "SHA1", SHA224: "SHA224", SHA256: "SHA256", SHA384: "SHA384", SHA512: "SHA512",
}

// findOpenSSL binds the libcrypto the process has loaded, if it has one and
// none is bound yet, and returns its path ("" without one). It costs a walk
// of the process's loaded objects: jobs call it once, at Start.
func findOpenSSL() string {
	evpLib.mu.Lock()
	defer evpLib.mu.Unlock()
	if evpLib.path == "" {
		var buf [4096]C.char
		if C.checksig_evp_find(&buf[0], C.size_t(len(buf))) == 1 {
			for a, name := range opensslNames {
				cs := C.CString(name)
				evpLib.md[a] = unsafe.Pointer(C.checksig_evp_md(cs))
				C.free(unsafe.Pointer(cs))
			}
			evpLib.path = C.GoString(&buf[0])
		}
	}
	return evpLib.path
}

// opensslPath returns the path of the libcrypto bound, "" while none is.
func opensslPath() string {
	evpLib.mu.Lock()
	defer evpLib.mu.Unlock()
	return evpLib.path
}

// evpHash is a hash.Hash computed by OpenSSL's EVP functions. Its context
// is freed when the evpHash is garbage.
type evpHash struct {
	ctx   unsafe.Pointer
	md    unsafe.Pointer
	size  int
	block int
}

// newOpenSSL returns a's hash computed by the bound libcrypto, or nil when
// none is bound or it cannot compute a (a FIPS build refusing MD5).
func newOpenSSL(a Algorithm) hash.Hash {
	evpLib.mu.Lock()
	md := evpLib.md[a]
	evpLib.mu.Unlock()
	if md == nil {
		return nil
	}
	ctx := C.checksig_evp_new(md)
	if ctx == nil {
		return nil
	}
	h := &evpHash{ctx: ctx, md: md, size: a.Size(), block: a.New().BlockSize()}
	runtime.AddCleanup(h, func(ctx unsafe.Pointer) { C.checksig_evp_free(ctx) }, ctx)
	return h
}

func (h *evpHash) Write(p []byte) (int, error) {
	if len(p) > 0 && C.checksig_evp_update(h.ctx, unsafe.Pointer(&p[0]), C.size_t(len(p))) != 1 {
		panic("checksig: EVP_DigestUpdate failed")
	}
	return len(p), nil
}

func (h *evpHash) Sum(b []byte) []byte {
	var out [MaxSize]C.uchar
	if n := C.checksig_evp_sum(h.ctx, &out[0]); int(n) != h.size {
		panic(fmt.Sprintf("checksig: EVP_DigestFinal_ex gave %d bytes, want %d", n, h.size))
	}
	return append(b, C.GoBytes(unsafe.Pointer(&out[0]), C.int(h.size))...)
}

func (h *evpHash) Reset() {
	if C.checksig_evp_reset(h.ctx, h.md) != 1 {
		panic("checksig: EVP_DigestInit_ex failed")
	}
}

func (h *evpHash) Size() int      { return h.size }
func (h *evpHash) BlockSize() int { return h.block }
