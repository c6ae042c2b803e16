//go:build js && wasm

// Command hashwasm is Haven's own hashing code compiled to WebAssembly for
// the survivors' self-report page (/self-report): the page hashes the
// pictures and videos a person selects on their own device, and only the
// hashes leave it. It uses the same PDQ code as the server
// (internal/pdq), so a picture hashed in the browser has the hash the
// server would compute for the same file.
//
// It registers two functions on the page's global object and then waits:
//
//	havenHashFile(bytes: Uint8Array) → {md5, sha1, pdq, quality, error}
//	havenHashPixels(width, height: number, rgba: Uint8ClampedArray) → {pdq, quality, error}
//
// havenHashFile decodes a picture (JPEG, PNG, GIF, WebP, BMP, TIFF) and
// hashes it; for any other file (a video) it returns the digests only, with
// error set. havenHashPixels hashes one frame drawn from a video by the
// browser.
//
// The binary is built by go generate in internal/server (see
// selfreport_wasm.go there) and committed; a test checks it is current.
package main

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"image"
	"syscall/js"

	"github.com/haven-hotline/haven/internal/pdq"
)

// maxFile is the largest file the page hashes: bigger ones get digests
// only (the browser would struggle to decode them anyway).
const maxFile = 256 << 20

func main() {
	js.Global().Set("havenHashFile", js.FuncOf(hashFile))
	js.Global().Set("havenHashPixels", js.FuncOf(hashPixels))
	js.Global().Set("havenHashReady", true)
	select {}
}

func result(m map[string]any) js.Value { return js.ValueOf(m) }

func hashFile(_ js.Value, args []js.Value) any {
	if len(args) != 1 || args[0].Type() != js.TypeObject {
		return result(map[string]any{"error": "havenHashFile takes one Uint8Array"})
	}
	n := args[0].Get("length").Int()
	if n > maxFile {
		return result(map[string]any{"error": "file too large to hash here"})
	}
	b := make([]byte, n)
	js.CopyBytesToGo(b, args[0])
	m, s := md5.Sum(b), sha1.Sum(b)
	out := map[string]any{"md5": hex.EncodeToString(m[:]), "sha1": hex.EncodeToString(s[:])}
	h, q, err := pdq.HashReader(bytes.NewReader(b), pdq.Options{})
	if err != nil {
		out["error"] = err.Error()
		return result(out)
	}
	out["pdq"], out["quality"] = h.String(), q
	return result(out)
}

func hashPixels(_ js.Value, args []js.Value) any {
	if len(args) != 3 {
		return result(map[string]any{"error": "havenHashPixels takes width, height and RGBA pixels"})
	}
	w, h := args[0].Int(), args[1].Int()
	if w <= 0 || h <= 0 || w > 8192 || h > 8192 || args[2].Get("length").Int() != w*h*4 {
		return result(map[string]any{"error": "bad frame size"})
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	js.CopyBytesToGo(img.Pix, args[2])
	hash, q, err := pdq.HashImage(img)
	if err != nil {
		return result(map[string]any{"error": err.Error()})
	}
	return result(map[string]any{"pdq": hash.String(), "quality": q})
}
