package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParsePublicKeys reads the PEM "PUBLIC KEY" blocks (RSA or ECDSA) of data, for
// verifying RS256/ES256 tokens issued elsewhere.
func ParsePublicKeys(data []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("auth: PEM block %q: want PUBLIC KEY", block.Type)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth: parse public key: %w", err)
		}
		switch k.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
			keys = append(keys, k)
		default:
			return nil, fmt.Errorf("auth: public key of type %T: want RSA or ECDSA", k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("auth: no PEM PUBLIC KEY block found")
	}
	return keys, nil
}
