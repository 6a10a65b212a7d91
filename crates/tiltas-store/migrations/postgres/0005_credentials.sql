-- Credentials a connection obtains at run time (rotated OAuth2 refresh tokens), one value per
-- connection and name. `sealed` is the value encrypted by the engine (nonce and ciphertext,
-- base64): the store never sees a credential in clear.
CREATE TABLE credential (
    connection TEXT NOT NULL,
    name       TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (connection, name)
);
