package server

// The self-report page (/self-report) hashes files in the browser with
// Haven's own Go code compiled to WebAssembly (cmd/hashwasm). The binary
// and the Go runtime's JavaScript glue (wasm_exec.js, from the same Go
// release, BSD licence) are generated into static/ and committed, so that
// `go run ./cmd/haven serve` needs no WebAssembly toolchain step;
// TestHashWasmIsCurrent rebuilds the binary with the toolchain named in
// static/hash.wasm.version and fails when the committed one differs.
//
// To regenerate after changing internal/pdq or cmd/hashwasm:
//
//	go generate ./internal/server/

//go:generate sh -c "GOTOOLCHAIN=$(cat static/hash.wasm.version) GOOS=js GOARCH=wasm go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o static/hash.wasm ../../cmd/hashwasm"
//go:generate sh -c "cp \"$(GOTOOLCHAIN=$(cat static/hash.wasm.version) go env GOROOT)/lib/wasm/wasm_exec.js\" static/wasm_exec.js"
