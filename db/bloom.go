package db

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// bloom is a Bloom filter over the keys of dedupe_keys: a fresh dedupe key
// (nearly every request's) is known to be absent from the index without
// reading it, a read that lands on a random page of a table much larger
// than the page cache. It may say "maybe" for a key that is absent (about
// 1% of fresh keys at its designed load, more for the keys expired since it
// was built), never "no" for one that is present. Only the writer's
// goroutine uses it.
type bloom struct {
	words []uint64
	mask  uint64 // bits - 1; bits is a power of two
	// added counts the keys added since it was built (a build fills at
	// most half the capacity); past half the capacity the filter is
	// rebuilt larger (mergeDedupe, rebuildBloom).
	added, capacity int64
}

const (
	bloomHashes      = 7  // k for about 1% false positives at 10 bits a key
	bloomBitsPerKey  = 10 // bits per key at capacity
	bloomMinCapacity = 1 << 17
)

// newBloom returns a filter for about n keys (at least bloomMinCapacity).
func newBloom(n int64) *bloom {
	capacity := max(n, bloomMinCapacity)
	nbits := uint64(1) << bits.Len64(uint64(capacity*bloomBitsPerKey)-1)
	return &bloom{words: make([]uint64, nbits/64), mask: nbits - 1, capacity: int64(nbits / bloomBitsPerKey)}
}

// positions yields the bits of k: double hashing over the two halves of the
// key hash, which is uniform already (a SHA-256 prefix), with the workflow
// mixed in.
func (b *bloom) positions(k dedupeKey, fn func(bit uint64)) {
	h1 := binary.LittleEndian.Uint64(k.hash[0:8]) ^ uint64(k.workflow)*0x9E3779B97F4A7C15
	h2 := binary.LittleEndian.Uint64(k.hash[8:16]) | 1
	for i := uint64(0); i < bloomHashes; i++ {
		fn((h1 + i*h2) & b.mask)
	}
}

func (b *bloom) add(k dedupeKey) {
	b.positions(k, func(bit uint64) { b.words[bit/64] |= 1 << (bit % 64) })
	b.added++
}

func (b *bloom) mayHave(k dedupeKey) bool {
	all := true
	b.positions(k, func(bit uint64) {
		if b.words[bit/64]&(1<<(bit%64)) == 0 {
			all = false
		}
	})
	return all
}

// loadBloom builds the filter over every key of dedupe_keys, sized for
// twice their number.
func (d *DB) loadBloom(ctx context.Context) (*bloom, error) {
	var n int64
	if err := d.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM dedupe_keys`).Scan(&n); err != nil {
		return nil, fmt.Errorf("db: load dedupe filter: %w", err)
	}
	b := newBloom(2 * n)
	rows, err := d.read.QueryContext(ctx, `SELECT workflow_id, key_hash FROM dedupe_keys`)
	if err != nil {
		return nil, fmt.Errorf("db: load dedupe filter: %w", err)
	}
	defer rows.Close()
	var hash []byte
	for rows.Next() {
		var k dedupeKey
		if err := rows.Scan(&k.workflow, &hash); err != nil {
			return nil, fmt.Errorf("db: load dedupe filter: %w", err)
		}
		copy(k.hash[:], hash)
		b.add(k)
	}
	b.added = 0
	return b, rows.Err()
}
