package engine

import "slices"

// Secrets are the secret values of a workflow document (product.md §11):
// the Basic Auth password and the verify secrets. They are taken out of the
// stored document (PrepareDocument) and kept encrypted by the store; the
// admin API returns them (an admin must read a secret back to configure
// the sender), exports leave them out unless asked. The JSON form of
// Secrets is what stores encrypt.
type Secrets struct {
	// BasicAuthPassword is trigger.basicAuth.password.
	BasicAuthPassword string `json:"basicAuthPassword,omitempty"`
	// VerifySecret is trigger.verify.secret; VerifySecrets is
	// trigger.verify.secrets (nil when the document has no such member).
	VerifySecret  string   `json:"verifySecret,omitempty"`
	VerifySecrets []string `json:"verifySecrets,omitempty"`
}

// IsZero reports whether there is no secret.
func (s Secrets) IsZero() bool {
	return s.BasicAuthPassword == "" && s.VerifySecret == "" && s.VerifySecrets == nil
}

// Masked returns the secrets with each value replaced by marker: what a
// document shown to people (the revision history) holds in their place.
func (s Secrets) Masked(marker string) Secrets {
	m := Secrets{}
	if s.BasicAuthPassword != "" {
		m.BasicAuthPassword = marker
	}
	if s.VerifySecret != "" {
		m.VerifySecret = marker
	}
	for range s.VerifySecrets {
		m.VerifySecrets = append(m.VerifySecrets, marker)
	}
	return m
}

// Equal reports whether two sets of secrets are the same.
func (s Secrets) Equal(o Secrets) bool {
	return s.BasicAuthPassword == o.BasicAuthPassword && s.VerifySecret == o.VerifySecret && slices.Equal(s.VerifySecrets, o.VerifySecrets)
}

// secretsOf returns the secrets of a decoded document.
func secretsOf(d *Document) Secrets {
	s := Secrets{BasicAuthPassword: d.Trigger.BasicAuth.Password}
	if v := d.Trigger.Verify; v != nil {
		s.VerifySecret = v.Secret
		if len(v.Secrets) > 0 {
			s.VerifySecrets = slices.Clone(v.Secrets)
		}
	}
	return s
}

// putInto puts the secrets into a decoded stored document.
func (s Secrets) putInto(d *Document) {
	d.Trigger.BasicAuth.Password = s.BasicAuthPassword
	if v := d.Trigger.Verify; v != nil {
		v.Secret = s.VerifySecret
		v.Secrets = slices.Clone(s.VerifySecrets)
	}
}
