-- Hookflow schema, version 2: optional two-factor sign-in (TOTP) for admins.

-- The TOTP secret, encrypted with the secret box like webhook passwords
-- (NULL: two-factor sign-in is off).
ALTER TABLE users ADD COLUMN totp_secret BLOB;
-- The time step of the last code accepted: a code is good once only.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
