package web

import (
	"context"
	"sync"

	"github.com/stamp-mail/stamp/core"
)

// streams tracks the open event streams (WebSocket and long polls) of each
// session, so that logging out, ending a session from the settings or
// changing the password closes them at once on this node. Streams on
// other nodes notice within one wake-up: each re-checks its token before
// it sends anything (see checkSession).
type streams struct {
	// mu guards open: session id (core.SessionID) -> cancel functions.
	mu   sync.Mutex
	open map[string]map[*context.CancelFunc]struct{}
}

func newStreams() *streams { return &streams{open: map[string]map[*context.CancelFunc]struct{}{}} }

// track derives a context from ctx that ends when the session of token is
// ended; call the returned release when the stream is over.
func (st *streams) track(ctx context.Context, token string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	id := core.SessionID(token)
	key := &cancel
	st.mu.Lock()
	if st.open[id] == nil {
		st.open[id] = map[*context.CancelFunc]struct{}{}
	}
	st.open[id][key] = struct{}{}
	st.mu.Unlock()
	return ctx, func() {
		st.mu.Lock()
		delete(st.open[id], key)
		if len(st.open[id]) == 0 {
			delete(st.open, id)
		}
		st.mu.Unlock()
		cancel()
	}
}

// end closes every stream of the sessions with the given ids.
func (st *streams) end(ids ...string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, id := range ids {
		for c := range st.open[id] {
			(*c)()
		}
	}
}

// count returns the number of open streams of a session (for tests and metrics).
func (st *streams) count(id string) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.open[id])
}
