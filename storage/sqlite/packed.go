package sqlite

import (
	"bytes"
	"errors"

	"github.com/klauspost/compress/s2"
)

// Packed values: inline blobs kept s2-compressed in the database
// (migration 110). SQLite, unlike PostgreSQL's TOAST, stores values as they
// are given, and an inline blob (a whole message up to 64 KiB) was the
// largest thing written per delivery, twice over with the WAL and its
// checkpoint. s2 is the block format of klauspost/compress: about 0.5 GB/s
// to pack and 1.3 GB/s to unpack on one core here, against 1.75x smaller
// on the SpamAssassin corpus's real messages (BENCHMARKS.md).
//
// The body text of search rows is not packed: SEARCH BODY reads it for
// every candidate, and unpacking made a folder scan 4x and a common needle
// 2x as costly (BenchmarkSearchBody, session 10).
//
// A packed value is packMagic followed by an s2 block, in blob_data with
// codec = codecS2 (codec 0 is the bytes as they are); the magic guards the
// codec.
const packMagic = "\x00s2\x01"

// Codecs of blob_data.codec.
const (
	codecRaw = 0
	codecS2  = 1
)

// packMin is the smallest value worth packing: below a quarter of a page
// the saving is not a page.
const packMin = 1 << 10

// packMax bounds what is packed and so what unpack allocates: an s2 block
// declares its length up front (up to 4 GiB), and a damaged row must not
// make a read allocate that. Inline blobs are at most 64 KiB by default;
// anything larger than this is stored as it is.
const packMax = 1 << 20

// pack returns b packed, or nil when packing would not save an eighth of
// it (or b is short): such values are stored as they are.
func pack(b []byte) []byte {
	if len(b) < packMin || len(b) > packMax {
		return nil
	}
	out := make([]byte, len(packMagic), len(packMagic)+s2.MaxEncodedLen(len(b)))
	copy(out, packMagic)
	enc := s2.Encode(out[len(packMagic):cap(out)], b)
	out = out[:len(packMagic)+len(enc)]
	if len(out) > len(b)-len(b)/8 {
		return nil
	}
	return out
}

// isPacked reports whether v starts as a packed value does.
func isPacked(v []byte) bool { return bytes.HasPrefix(v, []byte(packMagic)) }

// errPacked is returned for a packed value that does not unpack.
var errPacked = errors.New("stored value is damaged: it does not decompress")

// unpack returns the bytes of a packed value.
func unpack(v []byte) ([]byte, error) {
	if !isPacked(v) {
		return nil, errPacked
	}
	block := v[len(packMagic):]
	if n, err := s2.DecodedLen(block); err != nil || n > packMax {
		return nil, errPacked
	}
	b, err := s2.Decode(nil, block)
	if err != nil {
		return nil, errPacked
	}
	return b, nil
}
