package server_test

import (
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/pdq"
)

func hashmatchQuery(h pdq.Hash, quality int) hashmatch.Query {
	return hashmatch.Query{PDQ: &h, PDQQuality: quality}
}

func hashmatchMD5(sum []byte) hashmatch.Query { return hashmatch.Query{MD5: sum} }
