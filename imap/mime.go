package imap

import "github.com/stamp-mail/stamp/message/structure"

// The MIME part tree lives in message/structure (it is built at delivery
// and stored); these names keep the engine's code short.
type (
	part = structure.Part
	kv   = structure.KV
)

const maxMIMEDepth = structure.MaxDepth

func parseMIME(raw []byte) *part { return structure.Parse(raw) }

func fields(h []byte) []kv { return structure.Fields(h) }

func fieldValue(fs []kv, name string) (string, bool) { return structure.FieldValue(fs, name) }
