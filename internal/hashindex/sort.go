package hashindex

import "slices"

// sortedPerm returns the permutation that sorts keys ascending (stable), or
// nil when keys are sorted already, the usual case for a bulk load in ID
// order. It is an LSD radix sort, 11 bits a pass, skipping the passes in
// which every key has the same digit: a comparison sort of 10 million keys
// takes seconds, this a fraction of one.
func sortedPerm(keys []uint64) []uint32 {
	if slices.IsSorted(keys) {
		return nil
	}
	n := len(keys)
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	if n < 256 {
		slices.SortStableFunc(perm, func(a, b uint32) int {
			switch ka, kb := keys[a], keys[b]; {
			case ka < kb:
				return -1
			case ka > kb:
				return 1
			}
			return 0
		})
		return perm
	}
	const bitsPerPass = 11
	const buckets = 1 << bitsPerPass
	var or, and uint64 = 0, ^uint64(0)
	for _, k := range keys {
		or |= k
		and &= k
	}
	varying := or ^ and // bits that are not the same in every key
	tmpPerm := make([]uint32, n)
	cur := make([]uint64, n) // keys in the order of perm
	copy(cur, keys)
	tmpKeys := make([]uint64, n)
	var count [buckets]int
	for shift := 0; shift < 64; shift += bitsPerPass {
		if varying>>shift&(buckets-1) == 0 {
			continue
		}
		clear(count[:])
		for _, k := range cur {
			count[k>>shift&(buckets-1)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for i, k := range cur {
			d := k >> shift & (buckets - 1)
			j := count[d]
			count[d]++
			tmpKeys[j] = k
			tmpPerm[j] = perm[i]
		}
		cur, tmpKeys = tmpKeys, cur
		perm, tmpPerm = tmpPerm, perm
	}
	return perm
}

// permute reorders s in place so that s[i] becomes the old s[perm[i]],
// following the cycles of perm; done marks visited positions and must be
// all false (it is left all true).
func permute[T any](s []T, perm []uint32, done []bool) {
	for i := range s {
		if done[i] {
			continue
		}
		tmp := s[i]
		j := i
		for {
			done[j] = true
			k := int(perm[j])
			if k == i {
				s[j] = tmp
				break
			}
			s[j] = s[k]
			j = k
		}
	}
}
