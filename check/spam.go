package check

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/check/internal/bayes"
	"github.com/stamp-mail/stamp/check/internal/rules"
	"github.com/stamp-mail/stamp/storage"
)

//go:generate go run ./internal/corpus/gen -out testdata/corpus
//go:generate go run ./internal/genmodel -out spammodel.bin
//go:generate go run ./internal/genmodel -rules internal/rules/table.go

// spamModel is the shared starting model, trained by internal/genmodel on
// the SpamAssassin public corpus groups easy-ham-1, hard-ham-1 and spam-1.
//
//go:embed spammodel.bin
var spamModel []byte

const (
	// userWeight is how much one message of a user's own training counts
	// against one message of the shared corpus: personal training is the
	// user's explicit word, so it should move their verdicts quickly.
	userWeight = 3
	// dnsblPoints is the log-odds added per DNSBL listing the sender is on.
	dnsblPoints = 2.5
	// maxUserTokens caps one user's stored training; the rarest tokens are
	// dropped beyond it.
	maxUserTokens = 200000
	// bayesJunkAt is the classifier score at which Bayes alone reaches the
	// junk threshold (see bayesPoints): the operating point. Repeated
	// grouped 5-fold cross-validation of Bayes with the rules on the
	// training data (go run ./internal/genmodel -rules) chose it, at least
	// 0.8 (see genmodel's minJunkAt), with the highest recall that keeps
	// ham to Junk within 0.3% there (session 5, with the rules' tokens in
	// Bayes and the larger own spam set: 95.8% of all training spam, 93.4%
	// of spam-1, at 0.23%). internal/genmodel's bayesJunkAt copies it.
	bayesJunkAt = 0.8
)

// Errors returned by Learn.
var (
	ErrBadTraining = errors.New("check: stored spam training is corrupt")
)

// sharedModel is the embedded model: its counts, and the same in a table
// for scoring's look-ups (never changed after loading).
type sharedModel struct {
	counts *bayes.Counts
	table  *bayes.Table
}

func loadSharedModel() (*sharedModel, error) {
	c, err := bayes.Decode(spamModel)
	if err != nil {
		return nil, fmt.Errorf("check: embedded spam model: %w", err)
	}
	return &sharedModel{counts: c, table: bayes.NewTable(c)}, nil
}

func tokenize(raw []byte) []uint64 { return bayes.Tokenize(raw) }

// learnTokens are the tokens a message is learned by: its words and the
// rules it fires (as contentChecks scores it), the Date rules asked about
// the time its newest Received says it arrived.
func learnTokens(raw []byte) []uint64 {
	tokens, _, _ := contentChecks(raw, rules.TraceTime(raw), time.Time{})
	return tokens
}

func userKey(uid int64) string { return "spam:user:" + strconv.FormatInt(uid, 10) }

// trainingCacheTTL is how long a user's training, once read and decoded,
// is reused for scoring: every message would otherwise cost a KV read and,
// for a trained user, decoding up to maxUserTokens counts. Learn on this
// Judge updates the cache at once; training stored by another node is seen
// within this bound.
const trainingCacheTTL = 5 * time.Second

// trainingCacheMax bounds the cached users; the cache is emptied beyond it.
const trainingCacheMax = 10000

// trainingEntry is one user's cached training (nil: none).
type trainingEntry struct {
	counts *bayes.Counts
	at     time.Time
}

// cachedCounts returns a user's training for scoring, from the cache when
// fresh. The counts returned must not be modified.
func (j *Judge) cachedCounts(ctx context.Context, uid int64) (*bayes.Counts, error) {
	j.trainingMu.Lock()
	e, ok := j.training[uid]
	j.trainingMu.Unlock()
	if ok && time.Since(e.at) < trainingCacheTTL {
		return e.counts, nil
	}
	c, err := j.userCounts(ctx, uid)
	if err != nil {
		return nil, err
	}
	j.cacheCounts(uid, c)
	return c, nil
}

func (j *Judge) cacheCounts(uid int64, c *bayes.Counts) {
	j.trainingMu.Lock()
	defer j.trainingMu.Unlock()
	if j.training == nil || len(j.training) >= trainingCacheMax {
		j.training = map[int64]trainingEntry{}
	}
	j.training[uid] = trainingEntry{counts: c, at: time.Now()}
}

// userCounts loads a user's own training from the KV store; nil when there
// is none.
func (j *Judge) userCounts(ctx context.Context, uid int64) (*bayes.Counts, error) {
	if j.kv == nil {
		return nil, nil
	}
	b, err := j.kv.GetKV(ctx, userKey(uid))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := bayes.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%w: user %d: %v", ErrBadTraining, uid, err)
	}
	return c, nil
}

// userScore is the Bayesian spam probability of tokens for one user (the
// classifier's raw score, 0.5 with no evidence); a user whose training
// cannot be read gets the shared model alone.
func (j *Judge) userScore(ctx context.Context, uid int64, tokens []uint64) float64 {
	user, err := j.cachedCounts(ctx, uid)
	if err != nil {
		j.log.WarnContext(ctx, "spam training unreadable, using shared model", "user", uid, "err", err)
	}
	m := j.model(user)
	s, _ := m.Score(tokens)
	return s
}

// Learn trains userID's spam model with raw as spam or ham, so that similar
// mail changes verdict for that user only. Concurrent Learn calls on one
// Judge are serialized; two nodes learning for one user at the same instant
// may lose one of the two updates.
func (j *Judge) Learn(ctx context.Context, userID int64, raw []byte, spam bool) error {
	if j.kv == nil {
		return fmt.Errorf("check: Learn without a KV store")
	}
	tokens := learnTokens(raw)
	j.learnMu.Lock()
	defer j.learnMu.Unlock()
	c, err := j.userCounts(ctx, userID)
	if err != nil && !errors.Is(err, ErrBadTraining) {
		return fmt.Errorf("check: learn for user %d: %w", userID, err)
	}
	if c == nil { // none yet, or corrupt: start over
		c = bayes.NewCounts()
	}
	c.Add(tokens, spam)
	for min := uint32(2); len(c.Tokens) > maxUserTokens; min++ {
		c.Prune(min)
	}
	if err := j.kv.PutKV(ctx, userKey(userID), c.Encode()); err != nil {
		return fmt.Errorf("check: learn for user %d: %w", userID, err)
	}
	j.cacheCounts(userID, c) // c is not modified after this: the next Learn reads the store
	return nil
}

// dnsblHits returns the configured DNSBL zones listing ip (a 127.0.0.0/8
// A record for the reversed address under the zone, RFC 5782 section 2).
func (j *Judge) dnsblHits(ctx context.Context, ip net.IP) []string {
	if len(j.cfg.DNSBLs) == 0 || ip == nil {
		return nil
	}
	name := reverseIP(ip)
	type hit struct {
		zone string
		ok   bool
	}
	ch := make(chan hit, len(j.cfg.DNSBLs))
	for _, z := range j.cfg.DNSBLs {
		go func() {
			addrs, err := j.dns.LookupIPAddr(ctx, name+"."+strings.Trim(z, "."))
			listed := false
			for _, a := range addrs {
				if v4 := a.IP.To4(); v4 != nil && v4[0] == 127 {
					listed = true
				}
			}
			if err != nil && !isNotFound(err) {
				j.log.DebugContext(ctx, "dnsbl lookup", "zone", z, "err", err)
			}
			ch <- hit{z, listed}
		}()
	}
	var hits []string
	for range j.cfg.DNSBLs {
		if h := <-ch; h.ok {
			hits = append(hits, h.zone)
		}
	}
	return hits
}

// reverseIP is the DNSBL query label of ip: reversed octets for IPv4,
// reversed nibbles for IPv6 (RFC 5782 section 2.4).
func reverseIP(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return fmt.Sprintf("%d.%d.%d.%d", v4[3], v4[2], v4[1], v4[0])
	}
	const hex = "0123456789abcdef"
	v6 := ip.To16()
	parts := make([]string, 0, 32)
	for i := len(v6) - 1; i >= 0; i-- {
		parts = append(parts, string(hex[v6[i]&0xf]), string(hex[v6[i]>>4]))
	}
	return strings.Join(parts, ".")
}
