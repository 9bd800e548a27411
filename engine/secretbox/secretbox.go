// Package secretbox encrypts the secrets Hookflow must be able to read back
// (webhook passwords and signing secrets, two-factor secrets) with
// AES-256-GCM. It is shared by the SQLite and the PostgreSQL stores, and
// imports nothing of ours.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the key file created in the data directory when
// HOOKFLOW_SECRET_KEY is not set.
const KeyFileName = "secret.key"

// MinKeyLength is the shortest key accepted, in bytes.
const MinKeyLength = 16

// Box encrypts secrets at rest. Secrets stay readable by the admin (who must
// copy them into the third party's settings), unlike passwords and tokens,
// which are hashed.
type Box struct {
	aead cipher.AEAD
}

// New returns a box for a key of any length from MinKeyLength bytes: the
// key is stretched to 256 bits with SHA-256, so a long random passphrase
// works as well as raw key bytes.
func New(key []byte) (*Box, error) {
	if len(key) < MinKeyLength {
		return nil, fmt.Errorf("secret key: at least %d bytes required", MinKeyLength)
	}
	sum := sha256.Sum256(key)
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Load returns the box for the configured key, or for the key file in
// dataDir, creating that file (mode 0600) with 32 random bytes on first
// start.
func Load(configured, dataDir string) (*Box, error) {
	if configured != "" {
		return New([]byte(configured))
	}
	path := filepath.Join(dataDir, KeyFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw := make([]byte, 32)
		rand.Read(raw)
		enc := base64.StdEncoding.EncodeToString(raw) + "\n"
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create key file: %w", err)
		}
		if _, err := f.WriteString(enc); err != nil {
			f.Close()
			return nil, fmt.Errorf("write key file: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("write key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write key file: %w", err)
		}
		b = []byte(enc)
	} else if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	return New([]byte(strings.TrimSpace(string(b))))
}

// Seal encrypts a secret; the empty secret stays empty.
func (b *Box) Seal(plain string) []byte {
	if plain == "" {
		return nil
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	rand.Read(nonce)
	return b.aead.Seal(nonce, nonce, []byte(plain), nil)
}

// Open decrypts a sealed secret.
func (b *Box) Open(sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	ns := b.aead.NonceSize()
	if len(sealed) < ns {
		return "", errors.New("secret: too short")
	}
	plain, err := b.aead.Open(nil, sealed[:ns], sealed[ns:], nil)
	if err != nil {
		return "", errors.New("secret: cannot decrypt (wrong HOOKFLOW_SECRET_KEY or key file?)")
	}
	return string(plain), nil
}
