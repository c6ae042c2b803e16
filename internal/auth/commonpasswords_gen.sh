#!/bin/sh
# Regenerates commonpasswords.txt and commonpasswords_LICENSE.txt from the
# npm package named below (run by `go generate ./internal/auth/`).
# Needs npm and Go. See docs/decisions/0003-password-list.md.
set -eu

PKG=@zxcvbn-ts/language-common
VERSION=4.1.3
INTEGRITY=sha512-g2bg4skmlJG9aJqC/nWziZzgYpSe/f3rKeGobrkdFiOrfZVFqqzUgC6BUQWuX54Sua9j0Jxxt+1bf4f/Mal1Kg==

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

npm pack --silent --pack-destination "$tmp" "$PKG@$VERSION" >/dev/null
go run ./internal/gencommon \
	-in "$tmp/zxcvbn-ts-language-common-$VERSION.tgz" \
	-integrity "$INTEGRITY" \
	-source "$PKG@$VERSION" \
	-out commonpasswords.txt \
	-license-out commonpasswords_LICENSE.txt
