package compress

import (
	"bufio"
	"errors"
	"io"
)

// inflater decodes raw DEFLATE (RFC 1951) without reading ahead: Huffman
// codes are decoded one bit at a time (the canonical-code walk of zlib's
// puff.c), so a bit is read only when the code needs it, and the output
// decoded so far is handed over at the end of every block. This is what
// an interactive stream needs: after a Z_PARTIAL_FLUSH the peer has sent
// only an empty fixed-code block that ends mid-byte, and compress/flate
// (the standard library and klauspost/compress alike) keeps the data of
// the previous block until more input comes, so the command it holds is
// never seen (TestPythonPeer/partial hangs with them).
//
// The decoder runs in its own goroutine, pulling from the connection and
// writing each finished block to a pipe that Read takes from.
type inflater struct {
	in     *bufio.Reader
	bitbuf uint32
	bitcnt uint
	hist   []byte // output, the last 32 KiB kept as the window
	out    *io.PipeWriter
	sent   int // bytes of hist already written out
}

// Errors of malformed compressed input.
var errCorrupt = errors.New("compress: invalid deflate data")

const (
	maxBits   = 15
	window    = 32 << 10
	flushSize = 16 << 10 // hand over output inside a long block at least this often
)

// huffman is a canonical Huffman code: how many codes of each length and
// the symbols in code order.
type huffman struct {
	count  [maxBits + 1]int16
	symbol []int16
}

func newInflateReader(src io.Reader) io.ReadCloser {
	pr, pw := io.Pipe()
	f := &inflater{in: bufio.NewReaderSize(src, 4096), out: pw}
	go func() { pw.CloseWithError(f.run()) }()
	return pr
}

func (f *inflater) bits(need uint) (uint32, error) {
	for f.bitcnt < need {
		b, err := f.in.ReadByte()
		if err != nil {
			if err == io.EOF && len(f.hist) > f.sent {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		f.bitbuf |= uint32(b) << f.bitcnt
		f.bitcnt += 8
	}
	v := f.bitbuf & (1<<need - 1)
	f.bitbuf >>= need
	f.bitcnt -= need
	return v, nil
}

// flush writes the undelivered output and trims the window.
func (f *inflater) flush() error {
	if len(f.hist) > f.sent {
		if _, err := f.out.Write(f.hist[f.sent:]); err != nil {
			return err
		}
		f.sent = len(f.hist)
	}
	if len(f.hist) > 2*window {
		n := copy(f.hist, f.hist[len(f.hist)-window:])
		f.hist = f.hist[:n]
		f.sent = n
	}
	return nil
}

func (f *inflater) run() error {
	for {
		last, err := f.bits(1)
		if err != nil {
			return err
		}
		typ, err := f.bits(2)
		if err != nil {
			return err
		}
		switch typ {
		case 0:
			err = f.stored()
		case 1:
			err = f.codes(&fixedLen, &fixedDist)
		case 2:
			err = f.dynamic()
		default:
			err = errCorrupt
		}
		if err != nil {
			return err
		}
		if err := f.flush(); err != nil {
			return err
		}
		if last == 1 {
			return io.EOF
		}
	}
}

func (f *inflater) stored() error {
	f.bitbuf, f.bitcnt = 0, 0 // to the byte boundary
	var h [4]byte
	if _, err := io.ReadFull(f.in, h[:]); err != nil {
		return err
	}
	n := int(h[0]) | int(h[1])<<8
	if n != int(^(uint16(h[2]) | uint16(h[3])<<8)) {
		return errCorrupt
	}
	for n > 0 {
		k := min(n, flushSize)
		start := len(f.hist)
		f.hist = append(f.hist, make([]byte, k)...)
		if _, err := io.ReadFull(f.in, f.hist[start:]); err != nil {
			return err
		}
		n -= k
		if err := f.flush(); err != nil {
			return err
		}
	}
	return nil
}

func (f *inflater) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l <= maxBits; l++ {
		b, err := f.bits(1)
		if err != nil {
			return 0, err
		}
		code |= int(b)
		count := int(h.count[l])
		if code-count < first {
			return int(h.symbol[index+(code-first)]), nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, errCorrupt
}

// construct builds h from code lengths; incomplete codes are allowed (a
// single distance code, as RFC 1951 permits), over-subscribed ones not.
func construct(h *huffman, lengths []int16) error {
	h.count = [maxBits + 1]int16{}
	for _, l := range lengths {
		h.count[l]++
	}
	left := 1
	for l := 1; l <= maxBits; l++ {
		left <<= 1
		left -= int(h.count[l])
		if left < 0 {
			return errCorrupt
		}
	}
	var offs [maxBits + 1]int16
	for l := 1; l < maxBits; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.symbol = make([]int16, len(lengths))
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = int16(sym)
			offs[l]++
		}
	}
	return nil
}

var (
	lenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clOrder   = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	fixedLen, fixedDist = fixedTables()
)

// fixedTables builds the fixed codes of RFC 1951 section 3.2.6.
func fixedTables() (lit, dist huffman) {
	var l [288]int16
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	_ = construct(&lit, l[:]) // complete by construction
	var d [30]int16
	for i := range d {
		d[i] = 5
	}
	_ = construct(&dist, d[:])
	return lit, dist
}

func (f *inflater) codes(lencode, distcode *huffman) error {
	for {
		sym, err := f.decode(lencode)
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			f.hist = append(f.hist, byte(sym))
		case sym == 256:
			return nil
		default:
			sym -= 257
			if sym >= 29 {
				return errCorrupt
			}
			e, err := f.bits(lenExtra[sym])
			if err != nil {
				return err
			}
			n := lenBase[sym] + int(e)
			ds, err := f.decode(distcode)
			if err != nil {
				return err
			}
			if ds >= 30 {
				return errCorrupt
			}
			e, err = f.bits(distExtra[ds])
			if err != nil {
				return err
			}
			dist := distBase[ds] + int(e)
			if dist > len(f.hist) {
				return errCorrupt
			}
			for i := 0; i < n; i++ { // byte by byte: the copy may overlap itself
				f.hist = append(f.hist, f.hist[len(f.hist)-dist])
			}
		}
		if len(f.hist)-f.sent >= flushSize {
			if err := f.flush(); err != nil {
				return err
			}
		}
	}
}

func (f *inflater) dynamic() error {
	nlen, err := f.bits(5)
	if err != nil {
		return err
	}
	ndist, err := f.bits(5)
	if err != nil {
		return err
	}
	ncode, err := f.bits(4)
	if err != nil {
		return err
	}
	nl, nd := int(nlen)+257, int(ndist)+1
	if nl > 286 || nd > 30 {
		return errCorrupt
	}
	var cl [19]int16
	for i := 0; i < int(ncode)+4; i++ {
		v, err := f.bits(3)
		if err != nil {
			return err
		}
		cl[clOrder[i]] = int16(v)
	}
	var clcode huffman
	if err := construct(&clcode, cl[:]); err != nil {
		return err
	}
	lengths := make([]int16, nl+nd)
	for i := 0; i < nl+nd; {
		sym, err := f.decode(&clcode)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = int16(sym)
			i++
			continue
		}
		var rep int
		var val int16
		switch sym {
		case 16:
			if i == 0 {
				return errCorrupt
			}
			val = lengths[i-1]
			e, err := f.bits(2)
			if err != nil {
				return err
			}
			rep = 3 + int(e)
		case 17:
			e, err := f.bits(3)
			if err != nil {
				return err
			}
			rep = 3 + int(e)
		default:
			e, err := f.bits(7)
			if err != nil {
				return err
			}
			rep = 11 + int(e)
		}
		if i+rep > nl+nd {
			return errCorrupt
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		return errCorrupt // no end-of-block code
	}
	var lencode, distcode huffman
	if err := construct(&lencode, lengths[:nl]); err != nil {
		return err
	}
	if err := construct(&distcode, lengths[nl:]); err != nil {
		return err
	}
	return f.codes(&lencode, &distcode)
}
