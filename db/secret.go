package db

import "github.com/hookflow/hookflow/engine/secretbox"

// KeyFileName is the key file created in the data directory when
// HOOKFLOW_SECRET_KEY is not set.
const KeyFileName = secretbox.KeyFileName

// SecretBox encrypts webhook secrets at rest (see engine/secretbox, which
// the PostgreSQL store shares).
type SecretBox = secretbox.Box

// NewSecretBox returns a box for a key of at least 16 bytes.
func NewSecretBox(key []byte) (*SecretBox, error) { return secretbox.New(key) }

// LoadSecretBox returns the box for the configured key, or for the key file
// in dataDir, creating it on first start.
func LoadSecretBox(configured, dataDir string) (*SecretBox, error) {
	return secretbox.Load(configured, dataDir)
}
