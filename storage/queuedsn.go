package storage

// QueueDSN holds the RFC 3461 parameters a submitter gave with a queued
// message: RET and ENVID from MAIL, NOTIFY and ORCPT from each RCPT, and
// whether the delay notice already went out. They are columns of the queue
// (migration 80; before it they were JSON under the key "=dsn" of Results).
type QueueDSN struct {
	Ret   string             `json:"ret,omitempty"`   // "FULL" or "HDRS"; "" is HDRS
	EnvID string             `json:"envid,omitempty"` // xtext-decoded
	Rcpts map[string]RcptDSN `json:"rcpts,omitempty"` // by recipient address as given in RCPT
	// DelayNotified records that the delay notice went out.
	DelayNotified bool `json:"delay_notified,omitempty"`
}

// RcptDSN is one recipient's NOTIFY and ORCPT (RFC 3461 sections 4.1, 4.2).
type RcptDSN struct {
	Notify []string `json:"notify,omitempty"` // upper case; empty means the default (failure and delay)
	ORcpt  string   `json:"orcpt,omitempty"`  // "rfc822;addr"
}
