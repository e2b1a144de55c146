package llmredactprocessor

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"sync"
	"unsafe"
)

// The content hashes (Config.Hash): what the content policy keeps under `<key>.<hash>` and the
// guard in `[CONTENT:<hash>:<hex>]`.
const (
	// HashSHA256: the text's plain SHA-256, which anyone can compute again, so a short or
	// common text can be found by hashing candidates. For correlating with hashes that the
	// applications compute themselves.
	HashSHA256 = "sha256"
	// HashHMAC: HMAC-SHA256 of the text under the stack's key (HashKeyFile). Stable for one
	// key; unknown to anyone without it.
	HashHMAC = "hmac"
)

// MinKeyBytes: the shortest key HashKeyFile may hold (after its trailing newlines).
const MinKeyBytes = 16

// hasher hashes content; name is also the suffix of the attributes it writes and the tag of
// the guard's mark. Safe for concurrent batches.
type hasher struct {
	name    string
	keyFile string
	key     []byte    // hmac: nil until load
	macs    sync.Pool // hmac: hash.Hash keyed with key
}

func newHasher(name, keyFile string) *hasher {
	return &hasher{name: name, keyFile: keyFile}
}

// validateHash: what Config.Validate says of hash and hash_key_file.
func validateHash(name, keyFile string) error {
	switch name {
	case HashSHA256:
		if keyFile != "" {
			return errors.New("hash_key_file is for hash hmac; hash sha256 uses no key")
		}
	case HashHMAC:
		if keyFile == "" {
			return errors.New("hash hmac needs hash_key_file, the file that holds the key")
		}
	default:
		return fmt.Errorf("hash %q: want %s or %s", name, HashHMAC, HashSHA256)
	}
	return nil
}

// load reads the key at start (never at config validation: `otelcol validate` runs without
// the secret mounted). The key is the file's bytes without trailing CR and LF; the error never
// holds the key.
func (h *hasher) load() error {
	if h == nil || h.name != HashHMAC {
		return nil
	}
	raw, err := os.ReadFile(h.keyFile)
	if err != nil {
		return fmt.Errorf("hash_key_file: %w", err)
	}
	key := bytes.TrimRight(raw, "\r\n")
	if len(key) < MinKeyBytes {
		return fmt.Errorf("hash_key_file %s: the key has %d bytes; at least %d wanted", h.keyFile, len(key), MinKeyBytes)
	}
	h.key = key
	h.macs = sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	return nil
}

// ready: the key is loaded where one is needed.
func (h *hasher) ready() error {
	if h != nil && h.name == HashHMAC && h.key == nil {
		return errors.New("llmredact: the content hash key is not loaded (the processor was not started)")
	}
	return nil
}

// suffix of the attribute beside a content key: `.sha256` or `.hmac`.
func (h *hasher) suffix() string {
	return "." + h.name
}

// sum is the hex digest of s. The text is hashed in place (no copy: neither hash keeps or
// changes it) and the digest hex-encoded on the stack: one allocation, the result.
func (h *hasher) sum(s string) string {
	text := unsafe.Slice(unsafe.StringData(s), len(s))
	var out [sha256.Size]byte
	var digest []byte
	if h.name != HashHMAC {
		out = sha256.Sum256(text)
		digest = out[:]
	} else {
		mac := h.macs.Get().(hash.Hash)
		mac.Reset()
		mac.Write(text)
		digest = mac.Sum(out[:0])
		h.macs.Put(mac)
	}
	var hexed [2 * sha256.Size]byte
	hex.Encode(hexed[:], digest)
	return string(hexed[:])
}
